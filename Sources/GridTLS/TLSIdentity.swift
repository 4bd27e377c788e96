import Foundation
import NIOSSL
import PrivateFiles
import X509

/// A certificate chain and its private key, read from PEM files: what a server presents,
/// and what a gateway presents as a client to its super node.
package struct TLSIdentity: Sendable {
    /// The certificate file (PEM; the server's certificate first, then any intermediates).
    package let certificatePath: String
    /// The private key file (PEM).
    package let keyPath: String
    /// The chain, leaf first.
    package let chain: [NIOSSLCertificate]
    /// The private key.
    package let key: NIOSSLPrivateKey
    /// The leaf certificate's SHA-256 fingerprint.
    package let fingerprint: CertificateFingerprint
    /// When the leaf certificate expires.
    package let notValidAfter: Date

    /// Reads both files and checks the key is the leaf certificate's. The key file must be
    /// private as every key file is (`PrivateFile`): not a symbolic link, the user's own, and
    /// not accessible to group or others.
    package init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        let certificateText = try Self.read(certificatePath, what: "certificate")
        let keyText = try Self.readPrivateKey(keyPath)
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificateText.utf8))
        } catch {
            throw TLSError(
                "\(certificatePath) is not a PEM certificate (\(error)); give the certificate file (.crt/.pem)"
            )
        }
        guard let leaf = chain.first else {
            throw TLSError("\(certificatePath) holds no certificate; give the PEM certificate file")
        }
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw TLSError(
                "\(keyPath) is not a PEM private key (\(error)); give the key file that goes with the certificate"
            )
        }
        let certificate: Certificate
        let privateKey: Certificate.PrivateKey
        do {
            certificate = try Certificate(derEncoded: try leaf.toDERBytes())
            privateKey = try Certificate.PrivateKey(pemEncoded: keyText)
        } catch {
            throw TLSError("cannot read \(certificatePath) or \(keyPath): \(error)")
        }
        guard privateKey.publicKey == certificate.publicKey else {
            throw TLSError(
                "\(keyPath) is not the key of the certificate in \(certificatePath); give the matching --tls-key"
            )
        }
        fingerprint = CertificateFingerprint(der: try leaf.toDERBytes())
        notValidAfter = certificate.notValidAfter
    }

    /// A server configuration presenting this identity (TLS 1.2 or later); clients are not
    /// asked for a certificate unless the caller changes `certificateVerification`.
    package func serverConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// The TLS private key's text; a refusal of `PrivateFile` names the file and the fix.
    package static func readPrivateKey(_ path: String) throws -> String {
        do throws(PrivateFileError) {
            return String(decoding: try PrivateFile.contents(of: path, limit: 64 * 1024), as: UTF8.self)
        } catch .io(_, let operation, let code) {
            throw TLSError(
                "cannot read the TLS private key \(path) (\(operation): \(String(cString: strerror(code)))); check the path and its permissions"
            )
        } catch {
            throw TLSError("TLS " + error.description)
        }
    }

    private static func read(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw TLSError("cannot read the TLS \(what) \(path); check the path and its permissions")
        }
        return text
    }
}

import Foundation
import GridTLS
import LedgerLite
import NIOSSL
import OperatorKit
import SuperNodeCore

/// The gateways' TLS certificates the operator pinned at `certify --gateway-tls-cert`, one
/// file per gateway: `DIR/gateway-tls/<gateway id>.crt`. The super node asks a gateway for
/// that certificate when it connects (mutual TLS), and trusts it when it calls the gateway.
struct GatewayTLSPins {
    /// `DIR/gateway-tls`.
    let path: String

    init(_ directory: SuperDirectory) { path = directory.directory.file("gateway-tls") }

    /// Checks `certificateFile` is a PEM certificate and keeps it for `gateway`, replacing
    /// the one kept before.
    /// - Returns: its fingerprint.
    func pin(certificateFile: String, gateway: GatewayID) throws -> CertificateFingerprint {
        let certificates: [NIOSSLCertificate]
        do { certificates = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw OperatorError(
                "--gateway-tls-cert \(certificateFile) is not a PEM certificate (\(error)); give the gateway's DIR/tls.crt"
            )
        }
        guard let leaf = certificates.first, let der = try? leaf.toDERBytes() else {
            throw OperatorError(
                "--gateway-tls-cert \(certificateFile) holds no certificate; give the gateway's DIR/tls.crt"
            )
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            let target = file(for: gateway)
            let temp = target + ".tmp"
            guard let text = FileManager.default.contents(atPath: certificateFile),
                FileManager.default.createFile(atPath: temp, contents: text)
            else {
                throw OperatorError("cannot write \(temp); check \(path) is writable")
            }
            guard rename(temp, target) == 0 else {
                throw OperatorError("cannot write \(target): \(String(cString: strerror(errno)))")
            }
        } catch let error as OperatorError {
            throw error
        } catch {
            throw OperatorError("cannot keep the gateway's TLS certificate in \(path): \(error)")
        }
        return CertificateFingerprint(der: der)
    }

    /// What `load()` read.
    struct Loaded: Sendable {
        /// Every pinned certificate.
        var certificates: [NIOSSLCertificate] = []
        /// Which gateway each pinned certificate is.
        var gateways: [CertificateFingerprint: GatewayID] = [:]
    }

    /// Every pinned certificate, and which gateway each fingerprint is; none when nothing
    /// was pinned.
    func load() throws -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else { return Loaded() }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw OperatorError("cannot read \(path): \(error); check its permissions")
        }
        var certificates: [NIOSSLCertificate] = []
        var gateways: [CertificateFingerprint: GatewayID] = [:]
        for name in names.sorted() where name.hasSuffix(".crt") {
            guard let gateway = GatewayID(hex: String(name.dropLast(4))) else { continue }
            let file = path + "/" + name
            do {
                guard let leaf = try NIOSSLCertificate.fromPEMFile(file).first else {
                    throw OperatorError("\(file) holds no certificate")
                }
                certificates.append(leaf)
                gateways[CertificateFingerprint(der: try leaf.toDERBytes())] = gateway
            } catch {
                throw OperatorError(
                    "cannot read the pinned gateway certificate \(file) (\(error)); pin it again with `super-node certify --gateway-tls-cert`, or remove the file"
                )
            }
        }
        return Loaded(certificates: certificates, gateways: gateways)
    }

    private func file(for gateway: GatewayID) -> String { path + "/" + gateway.hex + ".crt" }
}

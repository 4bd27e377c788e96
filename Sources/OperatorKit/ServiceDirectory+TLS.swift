import Foundation
import GridTLS

#if canImport(Glibc)
import Glibc
#endif

extension ServiceDirectory {
    /// The server's certificate (PEM), `init`'s self-signed one or the operator's.
    public var tlsCertificatePath: String { file("tls.crt") }
    /// Its private key (PEM, mode 0600).
    public var tlsKeyPath: String { file("tls.key") }
    /// The command's executable name, for messages: "edge-gateway".
    public var executable: String { String(initCommand.split(separator: " ").first ?? "") }

    /// True when the directory holds a certificate.
    public var hasTLSCertificate: Bool { FileManager.default.fileExists(atPath: tlsCertificatePath) }

    /// Writes a fresh ECDSA P-256 key and a self-signed certificate for `hostnames`,
    /// replacing any there were (the key first, mode 0600).
    /// - Returns: the new certificate's fingerprint.
    @discardableResult
    package func writeSelfSignedCertificate(hostnames: [String], subject: String) throws -> CertificateFingerprint {
        let made: SelfSignedCertificate
        do { made = try SelfSignedCertificate(hostnames: hostnames, subject: subject) } catch let error as TLSError {
            throw OperatorError(error.description)
        }
        try writePrivate(made.privateKeyPEM, to: tlsKeyPath, mode: 0o600)
        try writePrivate(made.certificatePEM, to: tlsCertificatePath, mode: 0o644)
        return made.fingerprint
    }

    /// Copies the operator's certificate and key into the directory once they are checked
    /// to belong together, and the key file to be private (`TLSIdentity`).
    /// - Returns: the certificate's fingerprint.
    @discardableResult
    package func installCertificate(certificate: String, key: String) throws -> CertificateFingerprint {
        let identity: TLSIdentity
        let keyText: String
        do {
            identity = try TLSIdentity(certificatePath: certificate, keyPath: key)
            keyText = try TLSIdentity.readPrivateKey(key)
        } catch let error as TLSError {
            throw OperatorError(error.description)
        }
        guard let certificateText = FileManager.default.contents(atPath: certificate) else {
            throw OperatorError("cannot read \(certificate); check its permissions")
        }
        try writePrivate(keyText, to: tlsKeyPath, mode: 0o600)
        try writePrivate(String(decoding: certificateText, as: UTF8.self), to: tlsCertificatePath, mode: 0o644)
        return identity.fingerprint
    }

    /// Replaces `path` atomically with `text`, with exactly `mode` (whatever the umask) before
    /// anything is written: a key written 0600 passes the check it is read with.
    private func writePrivate(_ text: String, to path: String, mode: mode_t) throws {
        let temp = path + ".tmp"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw OperatorError(
                "cannot write \(path): \(String(cString: strerror(errno))); check \(self.path) is writable"
            )
        }
        guard fchmod(fd, mode) == 0 else {
            let error = String(cString: strerror(errno))
            close(fd)
            unlink(temp)
            throw OperatorError("cannot set the mode of \(temp): \(error)")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temp, path) == 0 else {
            unlink(temp)
            throw OperatorError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

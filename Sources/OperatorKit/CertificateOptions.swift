import ArgumentParser
import GridTLS

/// `init`'s and `tls-certificate`'s certificate flags, shared by both servers: a fresh
/// ECDSA P-256 key and a self-signed certificate for `--hostname` names, or the operator's
/// own `--tls-cert`/`--tls-key`, written to DIR/tls.crt and DIR/tls.key.
public struct CertificateOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("hostname"),
        help: ArgumentHelp(
            "A DNS name or IP address clients reach the server by, put in the self-signed certificate (repeat for several; default localhost, 127.0.0.1 and ::1).",
            valueName: "name"
        )
    )
    public var hostnames: [String] = []

    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "Install this certificate (PEM, server certificate first) as DIR/tls.crt instead of making one; needs --tls-key.",
            valueName: "file.pem"
        )
    )
    public var certificate: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp(
            "The private key (PEM) of --tls-cert, installed as DIR/tls.key (mode 0600).",
            valueName: "file.pem"
        )
    )
    public var key: String?

    public init() {}

    /// The names a certificate is made for when no --hostname is given.
    public static let defaultHostnames = ["localhost", "127.0.0.1", "::1"]

    public func validate() throws {
        guard (certificate == nil) == (key == nil) else {
            throw ValidationError(
                "--tls-cert and --tls-key go together: give both, or neither to make a self-signed certificate"
            )
        }
        for name in hostnames {
            do { _ = try SelfSignedCertificate.generalName(name) } catch let error as TLSError {
                throw ValidationError(error.description)
            }
        }
        if certificate != nil, !hostnames.isEmpty {
            throw ValidationError(
                "--hostname names a certificate init makes; with --tls-cert the names are the certificate's own"
            )
        }
    }

    /// Checks the operator's `--tls-cert`/`--tls-key`, when given, as `write` will: `init`
    /// asks before it creates anything, so that a refused key leaves no half-made directory.
    public func checkOperatorFiles() throws {
        guard let certificate, let key else { return }
        do { _ = try TLSIdentity(certificatePath: certificate, keyPath: key) } catch let error as TLSError {
            throw OperatorError(error.description)
        }
    }

    /// Makes or installs the certificate in `directory`, replacing any there was.
    /// - Parameter subject: who the certificate says it is for ("GridLedger edge gateway").
    /// - Returns: lines for the operator: where it is and its fingerprint.
    public func write(into directory: ServiceDirectory, subject: String) throws -> [String] {
        let fingerprint: CertificateFingerprint
        var lines: [String] = []
        if let certificate, let key {
            fingerprint = try directory.installCertificate(certificate: certificate, key: key)
            lines.append("tls cert     \(directory.tlsCertificatePath) (from \(certificate))")
        } else {
            let names = hostnames.isEmpty ? Self.defaultHostnames : hostnames
            fingerprint = try directory.writeSelfSignedCertificate(hostnames: names, subject: subject)
            lines.append(
                "tls cert     \(directory.tlsCertificatePath) (self-signed, ECDSA P-256, for \(names.joined(separator: ", ")))"
            )
        }
        lines.append("tls key      \(directory.tlsKeyPath) (mode 0600)")
        lines.append(
            "tls sha256   \(fingerprint) (clients pin this, or trust \(directory.tlsCertificatePath) as a CA file)"
        )
        return lines
    }
}

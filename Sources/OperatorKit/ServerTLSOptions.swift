import ArgumentParser
import GridTLS
import Logging

/// `serve`'s TLS flags, shared by both servers: `--tls` with the data directory's certificate
/// (`init` made it) or `--tls-cert`/`--tls-key`, and `--allow-plain-http` for plain HTTP on
/// an address other machines reach.
public struct ServerTLSOptions: ParsableArguments, Sendable {
    @Flag(
        help: "Speak HTTPS with the certificate and key `init` wrote to the data directory (tls.crt, tls.key)."
    )
    public var tls = false

    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "Speak HTTPS with this certificate (PEM, server certificate first) instead of DIR/tls.crt; needs --tls-key.",
            valueName: "file.pem"
        )
    )
    public var certificate: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("The private key (PEM) of --tls-cert.", valueName: "file.pem")
    )
    public var key: String?

    @Flag(
        name: .customLong("allow-plain-http"),
        help:
            "Serve plain HTTP on an address other machines reach (not loopback): traffic and admin tokens cross the network unencrypted, admin calls are refused except from loopback. Only on a network you trust."
    )
    public var allowPlainHTTP = false

    public init() {}

    public func validate() throws {
        guard (certificate == nil) == (key == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both, or neither to use DIR/tls.crt")
        }
        if allowPlainHTTP, tls || certificate != nil {
            throw ValidationError("--allow-plain-http contradicts --tls/--tls-cert; give one or the other")
        }
    }

    /// True when the server speaks HTTPS.
    public var enabled: Bool { tls || certificate != nil }

    /// The identity to serve with, or nil for plain HTTP; refuses plain HTTP on an address
    /// other machines reach unless `--allow-plain-http`, which is logged as a warning.
    /// - Parameters:
    ///   - directory: the data directory whose tls.crt and tls.key are the default.
    ///   - listen: the address served.
    package func identity(directory: ServiceDirectory, listen: ListenAddress, logger: Logger) throws -> TLSIdentity? {
        guard enabled else {
            if !listen.isLoopback {
                guard allowPlainHTTP else {
                    throw OperatorError(
                        "refusing plain HTTP on \(listen), which other machines reach: add --tls (the certificate `\(directory.initCommand)` wrote to \(directory.path)) or --tls-cert/--tls-key, or --allow-plain-http on a network you trust"
                    )
                }
                logger.warning(
                    "serving plain HTTP on an address other machines reach: traffic is unencrypted and admin calls are refused except from loopback; use --tls",
                    metadata: ["listen": "\(listen)"]
                )
            }
            return nil
        }
        let certificatePath = certificate ?? directory.tlsCertificatePath
        let keyPath = key ?? directory.tlsKeyPath
        do {
            return try TLSIdentity(certificatePath: certificatePath, keyPath: keyPath)
        } catch let error as TLSError {
            if certificate == nil, !directory.hasTLSCertificate {
                throw OperatorError(
                    "--tls: \(directory.path) has no tls.crt; run `\(directory.executable) tls-certificate --data \(directory.path) --hostname NAME` to make one, or give --tls-cert/--tls-key"
                )
            }
            throw OperatorError(error.description)
        }
    }
}

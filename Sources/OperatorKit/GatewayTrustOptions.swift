import ArgumentParser
import GridTLS

/// How a meter agent's commands recognise an https:// gateway: `--gateway-fingerprint`
/// (the SHA-256 fingerprint `edge-gateway init` printed) or `--gateway-ca` (a CA file, or the
/// gateway's own tls.crt); neither trusts the system's CAs.
public struct GatewayTrustOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("gateway-fingerprint"),
        help: ArgumentHelp(
            "With an https:// gateway: trust exactly the certificate with this SHA-256 fingerprint (as `edge-gateway init` printed it).",
            valueName: "sha256"
        )
    )
    public var fingerprint: String?

    @Option(
        name: .customLong("gateway-ca"),
        help: ArgumentHelp(
            "With an https:// gateway: trust the CA certificates in this PEM file (or the gateway's own tls.crt) instead of the system's.",
            valueName: "file.pem"
        )
    )
    public var caFile: String?

    public init() {}

    public func validate() throws { _ = try trust() }

    /// The trust asked for.
    package func trust() throws -> ServerTrust {
        try ServerTrust.from(fingerprint: fingerprint, caFile: caFile, flags: ("--gateway-fingerprint", "--gateway-ca"))
    }
}

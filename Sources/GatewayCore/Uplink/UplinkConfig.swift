/// Settings of the uplink (docs/GATEWAY.md, "Uplink to the super node").
package struct UplinkConfig: Sendable {
    package init() {}

    /// Most blocks a push carries.
    package var maxBlocks = 64
    /// Most wire bytes a push carries (base64 adds a third); a single larger block still goes alone.
    package var maxBytes = 4 << 20
    /// First wait after a network failure; doubled after each one up to `maxBackoff`.
    package var initialBackoff: Duration = .milliseconds(500)
    package var maxBackoff: Duration = .seconds(30)
    /// Wait after a refusal (revoked certificate, an audit failure, …) before pushing again.
    package var refusedDelay: Duration = .seconds(45)
    /// Connect and whole-request time limits.
    package var connectTimeout: Duration = .seconds(5)
    package var requestTimeout: Duration = .seconds(60)
    /// On a graceful stop, after the sealer's final block is archived: the most time one last
    /// attempt to push what is unacknowledged may take (zero: no final push).
    package var finalPushTimeout: Duration = .seconds(5)
}

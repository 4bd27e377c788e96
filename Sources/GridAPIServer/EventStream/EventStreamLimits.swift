/// How many live event streams (`GET /v1/events`) a server holds open at once, and how often
/// it sends a heartbeat on each (docs/GATEWAY.md and docs/SUPERNODE.md, "Dashboard").
package struct EventStreamLimits: Sendable, Equatable {
    /// Streams open at once; one more is refused with 503 and `Retry-After`.
    package var maxStreams: Int
    /// A comment line sent this often, so that proxies and browsers that cut idle connections
    /// keep the stream.
    package var heartbeat: Duration

    package static let standardMaxStreams = 32
    package static let standardHeartbeat: Duration = .seconds(15)

    package init(maxStreams: Int = standardMaxStreams, heartbeat: Duration = standardHeartbeat) {
        self.maxStreams = maxStreams
        self.heartbeat = heartbeat
    }

    /// `heartbeat` in whole seconds, at least 1, as `EventStreamHello` tells it.
    package var heartbeatSeconds: Int {
        max(1, Int(heartbeat.components.seconds))
    }
}

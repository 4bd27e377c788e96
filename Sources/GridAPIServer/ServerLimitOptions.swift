import ArgumentParser
import OperatorKit

/// `serve`'s connection limits, shared by both servers (`ServerLimits`).
package struct ServerLimitOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Close a connection that sends nothing for this long: no request, a header not yet complete, or idle between requests.",
            valueName: "duration"
        )
    )
    var idleTimeout = DurationArgument(ServerLimits.standardIdleTimeout, text: "30s")

    @Option(
        help: ArgumentHelp(
            "Close a connection whose request body has not arrived whole this long after its header.",
            valueName: "duration"
        )
    )
    var requestTimeout = DurationArgument(ServerLimits.standardRequestTimeout, text: "60s")

    @Option(
        help: ArgumentHelp(
            "Serve at most this many connections at once; more wait until one closes.",
            valueName: "count"
        )
    )
    var maxConnections = ServerLimits.standardMaxConnections

    @Option(
        help: ArgumentHelp(
            "Accept at most this many write requests (POST) a second from one source (an IPv4 address, an IPv6 /64); more are answered 429 with Retry-After. 0: no limit.",
            valueName: "per-second"
        )
    )
    var writeRate = Int(WriteRate.standard.perSecond)

    @Option(
        help: ArgumentHelp(
            "Write requests one source may send at once after a quiet spell (default: twice --write-rate).",
            valueName: "count"
        )
    )
    var writeBurst: Int?

    @Option(
        help: ArgumentHelp(
            "Keep at most this many live event streams (GET /v1/events, the dashboard's) open at once; more are answered 503 with Retry-After.",
            valueName: "count"
        )
    )
    var maxEventStreams = EventStreamLimits.standardMaxStreams

    package init() {}

    package func validate() throws {
        guard idleTimeout.duration >= .seconds(1) else {
            throw ValidationError("--idle-timeout must be at least 1s, e.g. 30s")
        }
        guard requestTimeout.duration >= .seconds(1) else {
            throw ValidationError("--request-timeout must be at least 1s, e.g. 60s")
        }
        guard (1...65_536).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 65536")
        }
        guard (0...1_000_000).contains(writeRate) else {
            throw ValidationError("--write-rate must be between 0 (no limit) and 1000000 requests a second")
        }
        guard (1...4096).contains(maxEventStreams) else {
            throw ValidationError("--max-event-streams must be between 1 and 4096")
        }
        if let writeBurst {
            guard writeRate > 0 else { throw ValidationError("--write-burst needs a --write-rate above 0") }
            guard (1...10_000_000).contains(writeBurst) else {
                throw ValidationError("--write-burst must be between 1 and 10000000 requests")
            }
        }
    }

    /// The limits these flags give.
    package var limits: ServerLimits {
        ServerLimits(
            idleTimeout: idleTimeout.duration,
            requestTimeout: requestTimeout.duration,
            maxConnections: maxConnections,
            writeRate: writeRate == 0
                ? nil : WriteRate(perSecond: Double(writeRate), burst: writeBurst ?? 2 * writeRate),
            eventStreams: EventStreamLimits(maxStreams: maxEventStreams)
        )
    }
}

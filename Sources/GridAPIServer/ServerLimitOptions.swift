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
    }

    /// The limits these flags give.
    package var limits: ServerLimits {
        ServerLimits(
            idleTimeout: idleTimeout.duration,
            requestTimeout: requestTimeout.duration,
            maxConnections: maxConnections
        )
    }
}

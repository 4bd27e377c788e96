import ModbusBridge
import OperatorKit

/// Reads a TCP bus's idle timeout as written in a fleet file or on the command line:
/// `60s`, `500ms`, `10m`; `0s` keeps silent clients for ever.
package enum IdleTimeoutOption {
    /// The timeout `text` gives (nil: never), the default when `text` is nil.
    /// - Throws: `ConfigFileError` naming `context` when `text` is not a duration, or when
    ///   the bus is not TCP (serial lines have no connections to drop).
    package static func resolve(_ text: String?, tcp: Bool, context: String) throws -> Duration? {
        guard let text else { return ServerOptions.defaultIdleTimeout }
        guard tcp else {
            throw ConfigFileError(context, "applies to tcp buses only: a serial line has no connections to drop")
        }
        guard let argument = DurationArgument(argument: text) else {
            throw ConfigFileError(context, "'\(text)' is not a duration like 60s, 500ms or 10m (0s: never)")
        }
        return timeout(argument.duration)
    }

    /// The server's timeout for a duration from the operator: zero means never.
    package static func timeout(_ duration: Duration) -> Duration? {
        duration == .zero ? nil : duration
    }
}

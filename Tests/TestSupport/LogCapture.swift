import Logging
import Synchronization

/// Collects log lines as `level message key=value…` (metadata sorted by key).
package final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    package init() {}

    /// Every line logged so far.
    package var all: [String] { lines.withLock { $0 } }

    /// A logger that writes into this capture.
    package var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(capture: self) }
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).merging(metadata) { a, _ in a }
                .sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }
            capture.append(([event.level.rawValue, "\(event.message)"] + fields).joined(separator: " "))
        }
    }
}

/// A logger that shows only critical lines: for tests where failures are expected and asserted
/// through an API instead.
package let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

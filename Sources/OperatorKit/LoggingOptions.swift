import ArgumentParser
import Foundation
import Logging

/// Logging flags every long-running command takes.
public struct LoggingOptions: ParsableArguments {
    public init() {}

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: String = "info"

    @Option(name: .long, help: "Log format: human or json (one JSON object a line).")
    public var logFormat: LogFormat = .human

    @Option(name: .long, help: "Append logs to this file instead of standard error.")
    public var logFile: String?

    public func validate() throws {
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError(
                "--log-level '\(logLevel)' is not a level; use trace, debug, info, notice, warning, error or critical"
            )
        }
    }

    /// Installs the operator log handler process-wide (once) and returns a logger.
    public func bootstrap(label: String) throws -> Logger {
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
        let sink = try LogSink.open(path: logFile)
        let format = logFormat
        LoggingBootstrapOnce.run {
            LoggingSystem.bootstrap { label in
                OperatorLogHandler(label: label, format: format, sink: sink, logLevel: level)
            }
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// `LoggingSystem.bootstrap` may run once per process; tests call commands repeatedly.
enum LoggingBootstrapOnce {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false

    static func run(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        body()
    }
}

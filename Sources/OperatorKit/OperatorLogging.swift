import ArgumentParser
import Foundation
import Logging

/// How log lines are written.
public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `2026-11-21T13:55:00.123Z info  message key=value`, for people.
    case human
    /// One JSON object a line, for log shippers.
    case json
}

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

/// Where log lines go: standard error or an appended file.
public final class LogSink: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    private init(handle: FileHandle) {
        self.handle = handle
    }

    public static func open(path: String?) throws -> LogSink {
        guard let path else { return LogSink(handle: .standardError) }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw OperatorError("cannot create log file \(path); check the directory exists and is writable")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw OperatorError("cannot open log file \(path) for writing; check its permissions")
        }
        handle.seekToEndOfFile()
        return LogSink(handle: handle)
    }

    public func write(_ line: String) {
        lock.withLock { handle.write(Data((line + "\n").utf8)) }
    }
}

/// A swift-log handler for operators: human lines or JSON lines.
public struct OperatorLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    let sink: LogSink
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(label: String, format: LogFormat, sink: LogSink, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.sink = sink
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        switch format {
        case .human:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quoteIfNeeded("\($0.value)"))" }
            let level = event.level.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
            sink.write(([time, level, "\(label): \(event.message)"] + fields).joined(separator: " "))
        case .json:
            var object: [String: String] = [
                "time": time, "level": event.level.rawValue, "logger": label,
                "message": "\(event.message)",
            ]
            for (key, value) in merged { object[key] = "\(value)" }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                let line = String(data: data, encoding: .utf8)
            {
                sink.write(line)
            }
        }
    }

    private static func quoteIfNeeded(_ text: String) -> String {
        text.contains(" ") || text.isEmpty ? "\"\(text)\"" : text
    }
}

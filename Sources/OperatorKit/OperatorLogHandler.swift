import Foundation
import Logging

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

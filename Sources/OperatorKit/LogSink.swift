import Foundation

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

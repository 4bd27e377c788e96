import Foundation
import Glibc

/// The project's binaries, started as a user would start them.
enum Binaries {
    /// The directory `swift build` put the executables in.
    static let directory: URL? = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [beside]
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<2 { directory.deleteLastPathComponent() }
        candidates.append(directory.appendingPathComponent(".build/debug"))
        return candidates.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("edge-gateway").path)
        }
    }()

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "edge-gateway and meter-agent are not built: run `swift build` (make test does) first"
        }
    }

    static func url(_ name: String) throws -> URL {
        guard let directory else { throw Missing() }
        return directory.appendingPathComponent(name)
    }
}

/// A started binary whose output goes to a log file.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    let log: String

    init(_ binary: String, _ arguments: [String], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = try Binaries.url(binary)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Kills it without warning (SIGKILL) and waits until it is gone.
    func kill9() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        signal(SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; nil if it is still running then
    /// (it is killed by `deinit`).
    func terminate(within timeout: Duration) async -> Int32? {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs a binary to completion.
func runBinary(_ binary: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = try Binaries.url(binary)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

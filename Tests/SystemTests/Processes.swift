import Foundation
import Glibc
import TestSupport

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
    let process: SpawnedProcess
    let log: String

    init(_ binary: String, _ arguments: [String], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = try SpawnedProcess(try Binaries.url(binary).path, arguments, output: .file(log))
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        process.signal(signal)
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
        return process.waitUntilExit()
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit; nil if it is still running then
    /// (it is killed when released).
    func terminate(within timeout: Duration) async -> Int32? {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return process.waitUntilExit()
    }
}

/// Runs a binary to completion, waiting for it off the cooperative pool.
func runBinary(_ binary: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let path = try Binaries.url(binary).path
    return try await offThePool { try SpawnedProcess.run(path, arguments) }
}

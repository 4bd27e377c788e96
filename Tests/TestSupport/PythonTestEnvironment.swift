import Foundation
import Glibc
import Synchronization

/// The Python virtual environment with the foreign Modbus software the tests run against
/// (pysunspec2, pymodbus), made once by `scripts/python-test-env` from PyPI.
package enum PythonTestEnvironment {
    /// The environment's python, making the environment first if need be. Throws, with the
    /// script's explanation, when it cannot be made: a test that needs it fails, never skips.
    package static func python() throws -> String {
        try cached.withLock { cached in
            if let cached { return try cached.get() }
            let result = Result { try make() }
            cached = result
            return try result.get()
        }
    }

    private static let cached = Mutex<Result<String, any Error>?>(nil)

    private static func make() throws -> String {
        // Tests/TestSupport/PythonTestEnvironment.swift → the package's root.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/python-test-env").path
        let run = try ProcessRun.run(executable: "/bin/bash", [script], timeout: .seconds(600))
        let python = run.output.split(separator: "\n").last.map(String.init) ?? ""
        guard run.status == 0, FileManager.default.isExecutableFile(atPath: python) else {
            throw Unavailable(detail: run.output + run.errors)
        }
        return python
    }

    /// The environment could not be made.
    package struct Unavailable: Error, CustomStringConvertible {
        package var detail: String
        package var description: String {
            "the Python test environment (pysunspec2, pymodbus from PyPI) could not be made by scripts/python-test-env: \(detail)"
        }
    }
}

/// A finished process: its exit status and what it printed.
package struct ProcessRun: Sendable {
    package var status: Int32
    package var output: String
    package var errors: String

    /// Runs `python -c script arguments…` to its end, killed after `timeout`.
    package static func script(_ script: String, _ arguments: [String], timeout: Duration) throws -> ProcessRun {
        try run(executable: try PythonTestEnvironment.python(), ["-c", script] + arguments, timeout: timeout)
    }

    /// Runs `executable` to its end; kills it (and says so in `errors`) after `timeout`.
    package static func run(executable: String, _ arguments: [String], timeout: Duration) throws -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let killed = Atomic<Bool>(false)
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem {
            if process.isRunning {
                killed.store(true, ordering: .relaxed)
                kill(pid, SIGKILL)
            }
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
        // Read both pipes to their end before waiting, so a chatty process cannot block on a full pipe.
        let errorData = Mutex<Data>(Data())
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            group.leave()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        watchdog.cancel()
        var errorText = String(decoding: errorData.withLock { $0 }, as: UTF8.self)
        if killed.load(ordering: .relaxed) { errorText += "\n(killed after \(timeout))" }
        return ProcessRun(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            errors: errorText
        )
    }
}

/// A program running until released (killed then, whatever the test's outcome), its output
/// going to a log file.
package final class LoggedProcess: @unchecked Sendable {
    package let process = Process()
    package let log: String

    /// Starts `executable arguments…`.
    package init(executable: String, _ arguments: [String], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Starts `python -u -c script arguments…` in the Python test environment.
    package static func python(script: String, _ arguments: [String], log: String) throws -> LoggedProcess {
        try LoggedProcess(executable: try PythonTestEnvironment.python(), ["-u", "-c", script] + arguments, log: log)
    }

    /// What it printed so far.
    package var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit; its status.
    package func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
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

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's choice for port 0).
package func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    return Int(UInt16(bigEndian: address.sin_port))
}

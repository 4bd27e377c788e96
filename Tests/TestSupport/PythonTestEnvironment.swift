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
        let directory = try TempDir(prefix: "gl-run")
        defer { directory.cleanup() }
        let (outputFile, errorsFile) = (directory.file("out"), directory.file("err"))
        let process = try SpawnedProcess(
            executable,
            arguments,
            output: .file(outputFile),
            errors: .file(errorsFile)
        )
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                killed = true
                process.signal(SIGKILL)
                break
            }
            usleep(20_000)
        }
        let status = process.waitUntilExit()
        var errorText = (try? String(contentsOfFile: errorsFile, encoding: .utf8)) ?? ""
        if killed { errorText += "\n(killed after \(timeout))" }
        return ProcessRun(
            status: status,
            output: (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "",
            errors: errorText
        )
    }
}

/// A program running until released (killed then, whatever the test's outcome), its output
/// going to a log file.
package final class LoggedProcess: @unchecked Sendable {
    package let process: SpawnedProcess
    package let log: String

    /// Starts `executable arguments…`.
    package init(executable: String, _ arguments: [String], log: String) throws {
        self.log = log
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = try SpawnedProcess(executable, arguments, output: .file(log))
    }

    /// Starts `python -u -c script arguments…` in the Python test environment.
    package static func python(script: String, _ arguments: [String], log: String) throws -> LoggedProcess {
        try LoggedProcess(executable: try PythonTestEnvironment.python(), ["-u", "-c", script] + arguments, log: log)
    }

    /// What it printed so far.
    package var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit; its status.
    package func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        process.signal(signal)
        return process.waitUntilExit()
    }
}

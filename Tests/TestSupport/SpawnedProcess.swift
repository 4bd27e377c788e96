import Foundation
import Glibc

/// A child process started with `posix_spawn`, for tests, instead of Foundation's `Process`.
///
/// Why not `Process`: on Linux, Swift 6.3's `Process.run()` lists `/proc/self/fd` to close
/// every inherited descriptor and copies each directory entry's whole 256-byte name field,
/// reading past glibc's buffer: in a process with more than about a thousand descriptors
/// open (the gateway and super node suites keep hundreds of SQLite files and sockets) it
/// crashes now and then (swift-corelibs-foundation pull request 5472, fixed after 6.3). Here
/// the child closes every descriptor above 2 with glibc's `closefrom` file action instead.
package final class SpawnedProcess: @unchecked Sendable {
    /// Where the child's standard output and error go.
    package enum Output: Sendable {
        /// Appended to the file at this path (created if missing).
        case file(String)
        /// Discarded.
        case discard
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    /// The child's process id.
    package let processIdentifier: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?
    private var signaled = false

    /// Starts `executable` with `arguments` (not including its name).
    /// - Parameters:
    ///   - environment: the child's whole environment; this process's when nil.
    ///   - currentDirectory: the child's working directory; this process's when nil.
    ///   - output: where standard output goes, and standard error unless `errors` says.
    package convenience init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        output: Output = .discard,
        errors: Output? = nil
    ) throws {
        try self.init(
            executable,
            arguments,
            environment: environment,
            currentDirectory: currentDirectory,
            stdoutTarget: output,
            stderrTarget: errors,
            outputPipe: nil
        )
    }

    private init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]?,
        currentDirectory: String?,
        stdoutTarget: Output,
        stderrTarget: Output?,
        outputPipe: Int32?
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        func open(_ target: Output, as fd: Int32) {
            switch target {
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .discard:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            }
        }
        if let outputPipe {
            posix_spawn_file_actions_adddup2(&actions, outputPipe, 1)
        } else {
            open(stdoutTarget, as: 1)
        }
        if let stderrTarget {
            open(stderrTarget, as: 2)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let currentDirectory {
            guard Self.addChdir(&actions, currentDirectory) else {
                throw Failure("cannot set the working directory of \(executable): this glibc has no posix_spawn chdir")
            }
        }
        guard Self.addCloseFrom(&actions, 3) else {
            throw Failure("this glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 or later needed)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process does: a Ctrl-C meant for the test
        // runner does not reach it first.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp = variables.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw Failure("cannot start \(executable): \(String(cString: strerror(status)))") }
        processIdentifier = child
    }

    deinit {
        if isRunning {
            kill(processIdentifier, SIGKILL)
            _ = waitUntilExit()
        }
    }

    /// Runs `executable` to its end; returns its exit status and what it wrote on standard
    /// output and error.
    package static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil
    ) throws -> (status: Int32, output: String) {
        var ends: [Int32] = [0, 0]
        // Close-on-exec at once (other children are spawned with every descriptor above 2
        // closed anyway).
        guard pipe(&ends) == 0 else { throw Failure("pipe: errno \(errno)") }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess(
                executable,
                arguments,
                environment: environment,
                currentDirectory: currentDirectory,
                stdoutTarget: .discard,
                stderrTarget: nil,
                outputPipe: ends[1]
            )
        } catch {
            close(ends[0])
            close(ends[1])
            throw error
        }
        close(ends[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
            if count > 0 {
                output.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                break
            }
        }
        close(ends[0])
        return (child.waitUntilExit(), String(decoding: output, as: UTF8.self))
    }

    /// Whether the child has not exited yet.
    package var isRunning: Bool {
        lock.withLock {
            if exitStatus != nil { return false }
            var status: Int32 = 0
            let reaped = waitpid(processIdentifier, &status, WNOHANG)
            if reaped == processIdentifier { record(status) }
            return exitStatus == nil && reaped == 0
        }
    }

    /// Sends `signal` to the child, if it still runs.
    package func signal(_ signal: Int32) {
        if isRunning { kill(processIdentifier, signal) }
    }

    /// Waits for the child to exit; returns its exit code, or the number of the signal that
    /// ended it (as Foundation's `Process.terminationStatus`).
    @discardableResult
    package func waitUntilExit() -> Int32 {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            var reaped: pid_t
            repeat { reaped = waitpid(processIdentifier, &status, 0) } while reaped < 0 && errno == EINTR
            if reaped == processIdentifier {
                record(status)
            } else {
                exitStatus = -1
            }
            return exitStatus ?? -1
        }
    }

    /// `waitUntilExit()`'s result: waits for the exit if it has not happened yet.
    package var terminationStatus: Int32 { waitUntilExit() }

    /// Whether a signal ended the child (waits for the exit if it has not happened yet).
    package var endedBySignal: Bool {
        waitUntilExit()
        return lock.withLock { signaled }
    }

    /// Keeps the exit code, or the number of the signal that ended the child. Holding `lock`.
    private func record(_ status: Int32) {
        let signal = status & 0x7f
        signaled = signal != 0
        exitStatus = signal == 0 ? (status >> 8) & 0xff : signal
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private typealias AddChdir =
        @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>)
        -> Int32

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which Swift's Glibc module
    /// does not declare.
    private static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ lowest: Int32) -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return false }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, lowest) == 0
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29).
    private static func addChdir(_ actions: inout posix_spawn_file_actions_t, _ path: String) -> Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return false }
        return unsafeBitCast(symbol, to: AddChdir.self)(&actions, path) == 0
    }
}

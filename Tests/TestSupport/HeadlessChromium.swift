import Foundation
import Glibc

/// A real Chromium without a window, driven through the DevTools protocol over
/// `--remote-debugging-pipe`: Chromium reads JSON commands, each ended by a NUL byte, on its
/// descriptor 3 and writes the answers and events the same way on descriptor 4. No extra
/// package and no port: two pipes. The browser runs in a process group of its own, which
/// `close()` (or `deinit`) kills whole, and its profile lives in a temporary directory that
/// goes with it.
package final class HeadlessChromium {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    /// The installed Chromium (Debian's `chromium`); nil when there is none.
    package static var executable: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private let profile: TempDir
    private var buffer: [UInt8] = []
    private var nextID = 0
    private var session: String?
    private var closed = false

    /// Starts Chromium headless, with a fresh profile.
    /// - Parameter arguments: more command-line switches, e.g.
    ///   `--ignore-certificate-errors-spki-list=<base64 SHA-256 of the server's SPKI>`.
    package init(arguments: [String] = []) throws {
        guard let executable = Self.executable else {
            throw Failure("chromium is not installed: run `./scripts/setup --test` (Debian's chromium package)")
        }
        profile = try TempDir(prefix: "gl-chromium")
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure("pipe: errno \(errno)") }
        // Kept above 4 and closed on exec, so that only the dup2 copies reach Chromium as 3 and 4.
        let ends = [toBrowser[0], toBrowser[1], fromBrowser[0], fromBrowser[1]].map { fd -> Int32 in
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            Glibc.close(fd)
            return high
        }
        commands = ends[1]
        answers = ends[2]
        var switches = [
            executable, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-dev-shm-usage", "--remote-debugging-pipe", "--window-size=1280,1000",
            "--user-data-dir=\(profile.path)",
        ]
        // Chromium refuses to run as root with its sandbox on.
        if getuid() == 0 { switches.append("--no-sandbox") }
        switches += arguments + ["about:blank"]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[0], 3)
        posix_spawn_file_actions_adddup2(&actions, ends[3], 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let log = profile.file("chromium.log")
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = switches.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        Glibc.close(ends[0])
        Glibc.close(ends[3])
        guard status == 0 else {
            Glibc.close(commands)
            Glibc.close(answers)
            profile.cleanup()
            throw Failure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    deinit { close() }

    /// Opens `url` in a new tab, which later calls act on.
    package func open(_ url: String) async throws {
        let target = try await send("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw Failure("no targetId in \(target)") }
        let attached = try await send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Failure("no sessionId in \(attached)") }
        self.session = session
        _ = try await send("Page.navigate", ["url": url], inSession: true)
    }

    /// The value of a JavaScript expression in the open tab (a string, number, bool, array,
    /// dictionary or nil); a thrown exception is a `Failure`.
    package func evaluate(_ expression: String) async throws -> Any? {
        let answer = try await send(
            "Runtime.evaluate",
            ["expression": expression, "returnByValue": true, "awaitPromise": true],
            inSession: true
        )
        if let exception = answer["exceptionDetails"] { throw Failure("\(expression): \(exception)") }
        return (answer["result"] as? [String: Any])?["value"]
    }

    /// Waits until `expression` is true in the open tab, asking every 100 ms.
    package func waitUntil(
        _ what: String,
        _ expression: String,
        timeout: Duration = .seconds(30)
    ) async throws {
        try await TestSupport.waitUntil(what, timeout: timeout) { try await self.evaluate(expression) as? Bool == true }
    }

    /// A PNG of the open tab.
    package func screenshot() async throws -> Data {
        let answer = try await send("Page.captureScreenshot", ["format": "png"], inSession: true)
        guard let text = answer["data"] as? String, let data = Data(base64Encoded: text) else {
            throw Failure("no screenshot in the answer")
        }
        return data
    }

    /// What Chromium printed (for a failing test's message).
    package var log: String { (try? String(contentsOfFile: profile.file("chromium.log"), encoding: .utf8)) ?? "" }

    /// Kills the browser and every process it started, and removes its profile.
    package func close() {
        guard !closed else { return }
        closed = true
        Glibc.kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Glibc.close(commands)
        Glibc.close(answers)
        profile.cleanup()
    }

    // MARK: the protocol

    /// Sends one command and waits for its answer, skipping events and other answers. The pipe
    /// is polled without blocking, with a short sleep between, so that no thread of the
    /// cooperative pool waits on Chromium.
    private func send(
        _ method: String,
        _ params: [String: Any],
        inSession: Bool = false
    ) async throws -> [String: Any] {
        guard !closed else { throw Failure("chromium is closed") }
        nextID += 1
        let id = nextID
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if inSession {
            guard let session else { throw Failure("\(method): no tab is open (call open first)") }
            message["sessionId"] = session
        }
        let bytes = Array(try JSONSerialization.data(withJSONObject: message)) + [0]
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(commands, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure("\(method): cannot write to chromium (errno \(errno)); \(log)") }
            written += count
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            while let end = buffer.firstIndex(of: 0) {
                let text = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let reply = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any],
                    reply["id"] as? Int == id
                else { continue }
                if let error = reply["error"] { throw Failure("\(method): \(error)") }
                return reply["result"] as? [String: Any] ?? [:]
            }
            guard ContinuousClock.now < deadline else { throw Failure("\(method): no answer within 30 s; \(log)") }
            var descriptor = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&descriptor, 1, 0) >= 0 else { throw Failure("poll: errno \(errno)") }
            guard descriptor.revents != 0 else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(answers, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure("\(method): chromium closed its pipe; \(log)") }
            buffer += chunk[..<count]
        }
    }
}

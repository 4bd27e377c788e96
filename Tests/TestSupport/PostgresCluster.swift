import Foundation
import Glibc

/// A throw-away PostgreSQL server (Debian's `postgresql`) for one test: a fresh cluster in a
/// temporary directory, listening on a free port on 127.0.0.1 only (and a socket in that
/// directory), with `trust` authentication for its one role, `gridledger`, and a database of
/// the same name. It runs with `fsync` off: nothing in it outlives the test.
///
/// PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to, and
/// the server runs as, the unprivileged `postgres` user the package creates. `stop()` (or
/// `deinit`) stops the server at once and removes the directory; call it in a `defer`.
///
/// Creating a cluster takes seconds of blocking work (`initdb`, `pg_ctl`): async tests use
/// `start()`, which does it on a thread of its own, never on the cooperative pool.
package final class PostgresCluster: @unchecked Sendable {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(_ description: String) { self.description = description }
    }

    /// The role and the database the tests use.
    package static let role = "gridledger"

    /// The directory of the newest installed server's programs (`initdb`, `pg_ctl`), nil when
    /// none is installed.
    package static var programs: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map { "\(root)/\($0)/bin" }.first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
        }
    }

    /// The port the server listens on, on 127.0.0.1.
    package private(set) var port = 0
    /// `postgres://gridledger@127.0.0.1:PORT/gridledger`.
    package var url: String { "postgres://\(Self.role)@127.0.0.1:\(port)/\(Self.role)" }

    private let directory: TempDir
    private let programs: String
    /// The user the server runs as when this process is root; nil to run as this process's user.
    private let serverUser: String?
    private var running = false

    private var data: String { directory.file("data") }

    /// Creates the cluster and starts its server.
    /// - Throws: `Failure` naming the step that failed, with what the program printed.
    package init() throws {
        guard let programs = Self.programs else {
            throw Failure("PostgreSQL is not installed: run `./scripts/setup --test` (Debian's postgresql package)")
        }
        self.programs = programs
        directory = try TempDir(prefix: "gl-postgres")
        if getuid() == 0 {
            guard let account = getpwnam("postgres") else {
                directory.cleanup()
                throw Failure("running as root, but there is no `postgres` user to run the server as")
            }
            serverUser = "postgres"
            guard chown(directory.path, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                directory.cleanup()
                throw Failure("chown \(directory.path) to postgres: errno \(errno)")
            }
        } else {
            serverUser = nil
        }
        do {
            try runServerProgram(
                "initdb",
                ["-D", data, "-U", Self.role, "--auth=trust", "--no-sync", "--no-locale", "-E", "UTF8"]
            )
            try start()
            try psql("CREATE DATABASE \(Self.role)", database: "postgres")
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Creates a cluster and starts its server on a thread of its own.
    package static func start() async throws -> PostgresCluster {
        try await withCheckedThrowingContinuation { done in
            Thread.detachNewThread { done.resume(with: Result { try PostgresCluster() }) }
        }
    }

    /// Runs `sql` with `psql` as the cluster's role; returns what it printed (unaligned, no
    /// headers: one row a line, columns split by `|`).
    /// - Throws: `Failure` with psql's message when the statement fails.
    @discardableResult
    package func psql(_ sql: String, database: String = role) throws -> String {
        let (status, output) = try Self.run(
            "/usr/bin/psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U",
                Self.role, "-d", database, "-c", sql,
            ],
            logTo: directory.file("psql.out")
        )
        guard status == 0 else { throw Failure("psql -c \(sql.prefix(80)): exit \(status): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The process id of the server (its postmaster), nil when it is not running.
    package var serverProcess: pid_t? {
        guard running, let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8) else {
            return nil
        }
        return text.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// Stops the server at once (`pg_ctl stop -m immediate`) and removes the cluster. Idempotent.
    package func stop() {
        if running {
            running = false
            _ = try? runServerProgram("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"])
        }
        directory.cleanup()
    }

    /// Starts the server on a free port; another process may take the port between the
    /// probe and the server's bind, so a refused bind is retried on another.
    private func start() throws {
        var lastFailure: Failure?
        for _ in 0..<5 {
            port = try LoopbackPort.free()
            let options = [
                "-c listen_addresses=127.0.0.1", "-p \(port)", "-k \(directory.path)", "-c fsync=off",
                "-c full_page_writes=off", "-c synchronous_commit=off",
            ].joined(separator: " ")
            do {
                try runServerProgram(
                    "pg_ctl",
                    ["-D", data, "-l", directory.file("server.log"), "-o", options, "-w", "-t", "60", "start"]
                )
                running = true
                return
            } catch let failure as Failure {
                let log = (try? String(contentsOfFile: directory.file("server.log"), encoding: .utf8)) ?? ""
                guard log.contains("could not bind") || log.contains("Address already in use") else { throw failure }
                lastFailure = Failure("\(failure.description); server log: \(log.suffix(800))")
            }
        }
        throw lastFailure ?? Failure("pg_ctl start failed")
    }

    /// Runs one of the server's programs as the server's user.
    private func runServerProgram(_ name: String, _ arguments: [String]) throws {
        let program = programs + "/" + name
        let (executable, argv) =
            serverUser.map { ("/usr/sbin/runuser", ["-u", $0, "--", program] + arguments) } ?? (program, arguments)
        let (status, output) = try Self.run(executable, argv, logTo: directory.file("\(name).out"))
        guard status == 0 else {
            throw Failure("\(name) \(arguments.joined(separator: " ")): exit \(status): \(output)")
        }
    }

    /// Runs a program to its end with its output in a file (not a pipe: `pg_ctl start` leaves
    /// the server running, which must not hold a pipe of ours open).
    private static func run(
        _ executable: String,
        _ arguments: [String],
        logTo path: String
    ) throws -> (
        Int32, String
    ) {
        FileManager.default.createFile(atPath: path, contents: nil)
        let status = try SpawnedProcess(executable, arguments, output: .file(path)).waitUntilExit()
        return (status, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}

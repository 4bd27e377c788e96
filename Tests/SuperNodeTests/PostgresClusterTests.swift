import Foundation
import Glibc
import TestSupport
import Testing

/// The throw-away PostgreSQL server the super node's PostgreSQL tests run against
/// (`PostgresCluster`): a real server on a free loopback port, never as root, gone after.
@Suite("PostgreSQL test cluster", .serialized)
struct PostgresClusterTests {
    @Test("a cluster answers SQL on its loopback port as an unprivileged user, and is gone once stopped")
    func startsAnswersAndStops() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        #expect(
            try cluster.psql("SELECT current_user, current_database(), inet_server_addr(), inet_server_port()")
                == "gridledger|gridledger|127.0.0.1|\(cluster.port)"
        )
        try cluster.psql("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        try cluster.psql("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        #expect(try cluster.psql("SELECT v FROM t ORDER BY k") == "one\ntwo")
        #expect(throws: PostgresCluster.Failure.self) { try cluster.psql("INSERT INTO t VALUES (1, 'again')") }

        let server = try #require(cluster.serverProcess)
        let status = try String(contentsOfFile: "/proc/\(server)/status", encoding: .utf8)
        let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst()
            .first
        #expect(uid != nil && uid != "0", "the server runs as an unprivileged user: \(uid.map(String.init) ?? "?")")

        let port = cluster.port
        cluster.stop()
        #expect(!LoopbackPort.accepts(port), "nothing listens once stopped")
        #expect(Self.isGone(server), "the server process is gone")
        #expect(cluster.serverProcess == nil)
    }

    @Test("two clusters run side by side on ports of their own")
    func twoSideBySide() async throws {
        let first = try await PostgresCluster.start()
        defer { first.stop() }
        let second = try await PostgresCluster.start()
        defer { second.stop() }
        #expect(first.port != second.port)
        try first.psql("CREATE TABLE only_here (k INTEGER)")
        #expect(throws: PostgresCluster.Failure.self) { try second.psql("SELECT * FROM only_here") }
        #expect(first.url == "postgres://gridledger@127.0.0.1:\(first.port)/gridledger")
    }

    /// Whether `pid` has exited: no such process, or a zombie its new parent has not reaped
    /// yet (the server's parent is not this process).
    static func isGone(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return true }
        return stat[stat.index(after: end)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }
}

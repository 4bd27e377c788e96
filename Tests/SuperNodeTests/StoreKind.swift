import Foundation
import SuperNodeCore
import TestSupport
import Testing

/// The engine a test's super node stores in. A test taking `StoreKind.allCases` as its
/// arguments runs once on each; its suite needs the `.postgres` trait.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A PostgreSQL cluster for a whole suite: started when one of its tests first asks for a
/// database (so a run that filters them out starts none), stopped after its last test, each
/// test with a database of its own (`PostgresServer.newDatabase()`).
struct PostgresSuiteTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = PostgresServer()
        do {
            try await PostgresServer.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == PostgresSuiteTrait {
    /// A PostgreSQL cluster for the suite's tests (`PostgresSuiteTrait`).
    static var postgres: Self { Self() }
}

/// The suite's cluster, started on first use.
actor PostgresServer {
    @TaskLocal static var current: PostgresServer?

    /// The cluster's start, shared by every test that asks while it is under way (the actor
    /// is reentrant across the await).
    private var starting: Task<PostgresCluster, any Error>?
    private var databases = 0

    /// A new, empty database on the suite's cluster, as a `--store` URL.
    static func newDatabase() async throws -> PostgresLocation {
        guard let server = current else {
            throw PostgresCluster.Failure("a PostgreSQL test's suite needs the .postgres trait")
        }
        return try await server.newDatabase()
    }

    private func newDatabase() async throws -> PostgresLocation {
        let start = starting ?? Task { try await PostgresCluster.start() }
        starting = start
        let cluster = try await start.value
        databases += 1
        let name = "store_\(databases)"
        try await offThePool { try cluster.psql("CREATE DATABASE \(name)") }
        return try PostgresLocation("postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/\(name)")
    }

    /// Stops the cluster, if one was started.
    func stop() async {
        guard let start = starting else { return }
        starting = nil
        // A cluster that failed to start has nothing to stop; pg_ctl blocks, so off the pool.
        if let cluster = try? await start.value { try? await offThePool { cluster.stop() } }
    }
}

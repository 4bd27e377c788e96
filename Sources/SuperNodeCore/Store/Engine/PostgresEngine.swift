import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The shared engine: a PostgreSQL server that any number of super-node replicas use at
/// once (`serve --store postgres://…`). Each body runs on one of the engine's own threads
/// with a connection of its own, blocking on the server's answers; writers take turns
/// through transaction-level advisory locks (`StoreLock`), never a lock in this process.
///
/// A replica that stops answering in the middle of a transaction (SIGSTOP, a hung machine)
/// is fenced off by the server: every connection sets `idle_in_transaction_session_timeout`
/// (`fenceAfter`), so its transaction is rolled back and its locks released; when it
/// resumes, its connection is gone and it commits nothing.
package final class PostgresEngine: StoreEngine {
    package let location: String
    private let server: PostgresLocation
    private let threads: NIOThreadPool
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(0)
    private let logger: Logger
    /// How long a transaction may wait for this process before the server ends it.
    package let fenceAfter: Duration

    /// The default number of connections (and threads) per replica.
    package static let defaultConnections = 4

    /// The default of `serve --fence-after`.
    package static let defaultFenceAfter: Duration = .seconds(30)

    /// An engine for `server`; nothing is connected until the first body runs. `open`
    /// also checks the server answers and migrates the schema.
    private init(_ server: PostgresLocation, connections: Int, fenceAfter: Duration, logger: Logger) {
        self.server = server
        location = server.description
        self.logger = logger
        self.fenceAfter = fenceAfter
        threads = NIOThreadPool(numberOfThreads: max(1, connections))
        threads.start()
    }

    /// Connects to `server` (checking it answers) and migrates its schema, serialised with
    /// other replicas starting at the same time.
    /// - Throws: the server's error (`PostgresStoreError`), or `StoreDamage`.
    package static func open(
        _ server: PostgresLocation,
        connections: Int = defaultConnections,
        fenceAfter: Duration = defaultFenceAfter,
        logger: Logger
    ) async throws -> PostgresEngine {
        let engine = PostgresEngine(server, connections: connections, fenceAfter: fenceAfter, logger: logger)
        do {
            try await engine.onConnection { db in try AuthoritySchema.migrate(db) }
        } catch {
            await engine.close()
            throw error
        }
        return engine
    }

    package var kind: StoreEngineKind { .postgres }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await onConnection { db in try db.snapshot { try body(db) } }
    }

    package func session<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await onConnection(body)
    }

    private func onConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresStoreConnection) throws -> T
    ) async throws -> T {
        try await threads.runIfActive {
            let connection = try self.checkOut()
            do {
                let result = try body(
                    PostgresStoreConnection(connection: connection, logger: self.logger, server: self.location)
                )
                self.checkIn(connection)
                return result
            } catch {
                self.checkIn(connection)
                throw error
            }
        }
    }

    /// An idle open connection, or a new one (on the engine's thread: it blocks).
    private func checkOut() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        let configuration = PostgresConnection.Configuration(
            host: server.host,
            port: server.port,
            username: server.username,
            password: server.password,
            database: server.database,
            tls: .disable
        )
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(),
                configuration: configuration,
                id: nextID.wrappingAdd(1, ordering: .relaxed).newValue,
                logger: logger
            ).wait()
        } catch {
            throw PostgresStoreError(error, server: location)
        }
        let seconds = fenceAfter.components.seconds
        do {
            try PostgresStoreConnection(connection: connection, logger: logger, server: location)
                .execute("SET idle_in_transaction_session_timeout = '\(max(1, seconds))s'")
        } catch {
            // The SET's error is the one to report; the connection is kept until it has closed.
            connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
            throw error
        }
        return connection
    }

    private func checkIn(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        idle.withLock { $0.append(connection) }
    }

    /// A store let go without `close()` (a test's, or a super node replaced by a reopened
    /// one) closes its connections in the background; each is kept until it has closed, as
    /// postgres-nio requires.
    deinit {
        for connection in idle.withLock({ $0 }) {
            connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
        }
        threads.shutdownGracefully { _ in }
    }

    package func close() async {
        let connections = idle.withLock { connections in
            defer { connections.removeAll() }
            return connections
        }
        for connection in connections { try? await connection.close() }  // closing: nothing left to tell
        try? await threads.shutdownGracefully()
    }
}

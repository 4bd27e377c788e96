import GRDB

/// The embedded engine: one SQLite file (GRDB, WAL, `synchronous = FULL`) read through a
/// pool and written by its one writer.
package final class SQLiteEngine: StoreEngine {
    package let pool: DatabasePool
    package let location: String

    /// Opens (creating when absent) the SQLite file at `path` and migrates it.
    package init(path: String) throws {
        location = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try AuthoritySchema.sqliteMigrator.migrate(pool)
    }

    package var kind: StoreEngineKind { .sqlite }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(SQLiteStoreConnection(db)) }
    }

    package func session<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in try body(SQLiteStoreConnection(db)) }
    }

    /// Nothing to do: GRDB closes the file when the last user of the pool lets it go.
    package func close() async {}
}

import Foundation
import GRDB
import LedgerLite

/// Entries a gateway has acknowledged but not yet sealed into a block, kept durably.
///
/// `BlockBuilder` holds pending entries in memory until it seals. A gateway that must not
/// acknowledge anything it could lose writes each accepted entry here first (one SQLite
/// transaction per call, WAL mode, `synchronous = FULL`), answers, and deletes the rows
/// once their block is in the `ChainStore`. On start-up it replays the rows whose index is
/// at or past the store's tree size into a resumed builder, in index order.
///
/// Table `pending(idx INTEGER PRIMARY KEY, ts INTEGER, bytes BLOB)`: `idx` is the entry's
/// future global index, `ts` the gateway time it was added (ms UTC), `bytes` the envelope
/// verbatim. Like `ChainStore`, every method blocks on SQLite: call it from a thread of
/// your own, never from the cooperative pool.
public final class PendingJournal: Sendable {
    /// One journaled entry.
    public struct Entry: Hashable, Sendable {
        /// The global index the entry takes in the chain.
        public var index: UInt64
        /// Gateway time it was added, ms since the Unix epoch, UTC.
        public var time: Int64
        /// The envelope bytes, verbatim.
        public var bytes: [UInt8]

        public init(index: UInt64, time: Int64, bytes: [UInt8]) {
            self.index = index
            self.time = time
            self.bytes = bytes
        }
    }

    /// Path of the SQLite file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the journal at `path`.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        // Another connection (a closing pool's final checkpoint, `inspect` beside `serve`)
        // may hold a lock for a moment: wait for it rather than fail at once.
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("pending-v1") { db in
            try db.execute(
                sql: "CREATE TABLE pending (idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL, bytes BLOB NOT NULL)"
            )
        }
        try migrator.migrate(pool)
    }

    /// Writes `entries` in one durable transaction (all or none).
    public func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        try pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO pending (idx, ts, bytes) VALUES (?, ?, ?)")
            for e in entries {
                try insert.execute(arguments: [Int64(bitPattern: e.index), e.time, Data(e.bytes)])
            }
        }
    }

    /// Every journaled entry, by index.
    public func entries() throws -> [Entry] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT idx, ts, bytes FROM pending ORDER BY idx").map {
                Entry(index: UInt64(bitPattern: $0["idx"]), time: $0["ts"], bytes: Array($0["bytes"] as Data))
            }
        }
    }

    /// Number of journaled entries.
    public func count() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pending") ?? 0 }
    }

    /// Deletes the entries with index below `treeSize` (they are in sealed blocks now).
    public func removeEntries(below treeSize: UInt64) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM pending WHERE idx < ?", arguments: [Int64(bitPattern: treeSize)])
        }
    }

    /// Deletes the entries with index at or above `index` (entries a builder refused).
    public func removeEntries(from index: UInt64) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM pending WHERE idx >= ?", arguments: [Int64(bitPattern: index)])
        }
    }
}

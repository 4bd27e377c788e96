import Foundation
import GRDB
import LedgerLite

/// The super node's checkpoints of this gateway's blocks, verified, in `DIR/checkpoints.sqlite`
/// (GRDB, WAL, `synchronous = FULL`; table in docs/GATEWAY.md, "Checkpoints"). One row per
/// block height; the signed checkpoint bytes are kept verbatim.
///
/// Every method blocks on SQLite: call it from a thread of your own (the uplink's and the
/// chain reader's), never from the cooperative pool.
package final class CheckpointStore: Sendable {
    package let path: String
    private let pool: DatabasePool

    /// A stored checkpoint.
    package struct Row: Sendable {
        package var checkpoint: SignedCheckpoint
        /// When the gateway stored it (ms UTC).
        package var storedAt: Int64
    }

    /// Opens (creating if needed) the store at `path`.
    package init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    /// Opens an existing store for reading (`inspect`); nil when there is none.
    package static func openIfPresent(path: String) throws -> CheckpointStore? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try CheckpointStore(path: path)
    }

    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("checkpoint-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint (
                        height INTEGER PRIMARY KEY,
                        block_hash BLOB NOT NULL,
                        merkle_root BLOB NOT NULL,
                        tree_size INTEGER NOT NULL,
                        certificate_serial INTEGER NOT NULL,
                        checkpointed_at INTEGER NOT NULL,
                        stored_at INTEGER NOT NULL,
                        bytes BLOB NOT NULL
                    )
                    """
            )
        }
        return migrator
    }

    /// Verifies `signed` against our block `header` and the root key, then stores it
    /// (replacing an older checkpoint of the same height, e.g. after the super node lost
    /// its copy and audited the block again). Nothing is stored when a check fails.
    package func store(
        _ signed: SignedCheckpoint,
        for header: SignedBlockHeader,
        root: PublicIdentity,
        at now: Int64
    ) throws {
        try CheckpointCheck.verify(signed, root: root, header: header)
        let c = signed.checkpoint
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO checkpoint (height, block_hash, merkle_root, tree_size, certificate_serial, checkpointed_at, stored_at, bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(bitPattern: c.height), Data(c.blockHash.bytes), Data(c.merkleRoot.bytes),
                    Int64(bitPattern: c.treeSize),
                    Int64(bitPattern: c.certificateSerial), c.checkpointedAt, now, Data(signed.bytes),
                ]
            )
        }
    }

    /// The highest checkpointed height; nil before the first checkpoint.
    package func lastHeight() throws -> UInt64? {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM checkpoint").map { UInt64(bitPattern: $0) }
        }
    }

    /// Number of checkpoints stored.
    package func count() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkpoint") ?? 0 }
    }

    /// The checkpoint of the block at `height`.
    package func checkpoint(height: UInt64) throws -> Row? {
        try pool.read { db in
            try GRDB.Row.fetchOne(
                db,
                sql: "SELECT bytes, stored_at FROM checkpoint WHERE height = ?",
                arguments: [Int64(bitPattern: height)]
            )
            .map(Self.row)
        }
    }

    /// Checkpoints from `height` on, in height order.
    package func list(from height: UInt64, limit: Int) throws -> [Row] {
        try pool.read { db in
            try GRDB.Row.fetchAll(
                db,
                sql: "SELECT bytes, stored_at FROM checkpoint WHERE height >= ? ORDER BY height LIMIT ?",
                arguments: [Int64(bitPattern: height), limit]
            ).map(Self.row)
        }
    }

    private static func row(_ row: GRDB.Row) throws -> Row {
        Row(checkpoint: try SignedCheckpoint(bytes: Array(row["bytes"] as Data)), storedAt: row["stored_at"])
    }
}

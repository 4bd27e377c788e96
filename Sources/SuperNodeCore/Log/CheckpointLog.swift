import Foundation
import GRDB
import LedgerLite

/// The super node's own append-only log of the checkpoints it issues, published as C2SP
/// tlog-tiles: entry `i` is the `i`-th signed checkpoint's bytes, verbatim. The store keeps
/// the entries, every tile (each tile row grows until it is full, then never changes) and
/// the head (size and root), so serving the checkpoint or any tile reads O(one tile) rows,
/// however long the log.
///
/// Appending happens in the transaction that stores the checkpoint (`SuperNode`'s push),
/// under the store's `checkpointLog` lock: on SQLite the process that holds the store is the
/// log's one sequencer; on PostgreSQL whichever replica holds the lock, until it commits.
package enum CheckpointLog {
    /// Appends the checkpoints issued before the log existed, in the order they were issued
    /// (`gateway_block` rows are only ever inserted, so their rowid is the issue order), a
    /// bounded batch at a time.
    /// (SQLite only: PostgreSQL stores start with the log.)
    static func backfill(_ db: Database) throws {
        let connection = SQLiteStoreConnection(db)
        var after: Int64 = 0
        while true {
            let rows = try connection.rows(
                "SELECT rowid, checkpoint FROM gateway_block WHERE rowid > ? ORDER BY rowid LIMIT 4096",
                [.integer(after)]
            )
            guard let last = rows.last else { return }
            after = try last.integer(0)
            try append(try rows.map { try $0.bytes(1) }, connection)
        }
    }

    /// Appends `entries` to the log, in the caller's transaction, holding the log's lock
    /// until it ends (whichever replica appends is the log's one sequencer meanwhile).
    /// - Returns: the log's head after them.
    @discardableResult
    package static func append(_ entries: [[UInt8]], _ db: any StoreConnection) throws -> LogHead {
        try db.serialize(on: .checkpointLog)
        let head = try self.head(db)
        var appender = TileAppender(size: head.size) { level, index in try storedTile(level: level, index: index, db) }
        for (index, entry) in entries.enumerated() {
            guard entry.count <= EntryBundle.maxEntryLength else {
                throw EntryBundleError.entryTooLong(index: index, length: entry.count)
            }
            try db.execute(
                "INSERT INTO log_entry (idx, bytes) VALUES (?, ?)",
                [.unsigned(appender.size), .bytes(entry)]
            )
            try appender.append(leafHash: Merkle.leafHash(entry))
        }
        for tile in appender.changedTiles {
            try db.execute(
                """
                INSERT INTO log_tile (level, idx, hashes) VALUES (?, ?, ?)
                ON CONFLICT(level, idx) DO UPDATE SET hashes = excluded.hashes
                """,
                [.integer(Int64(tile.level)), .unsigned(tile.index), .bytes(tile.hashes.flatMap(\.bytes))]
            )
        }
        let next = LogHead(size: appender.size, root: try appender.root())
        try db.execute(
            "UPDATE log_head SET size = ?, root = ? WHERE id = 0",
            [.unsigned(next.size), .blob(next.root.bytes)]
        )
        return next
    }

    /// Checks that the log holds one entry per checkpoint issued (they are written in one
    /// transaction; anything else is an edited or damaged store). On SQLite the count of
    /// checkpoints is the last `gateway_block` rowid (rows are only ever inserted); PostgreSQL
    /// has no such counter, so there the log's last entry must be the checkpoint of its
    /// gateway's last accepted block (which catches a log cut short or a block added without
    /// its entry, but not every edit: `super-node verify` audits the rest). Either costs O(1), however many checkpoints were issued.
    /// - Throws: `StoreDamage`, one line naming `store`.
    static func requireOneEntryPerCheckpoint(_ db: any StoreConnection, store: String) throws {
        let logged = try head(db).size
        switch db.engine {
        case .sqlite:
            let issued = try db.integer("SELECT COALESCE(MAX(rowid), 0) FROM gateway_block") ?? 0
            guard UInt64(issued) == logged else {
                throw StoreDamage(
                    "\(store) holds \(issued) checkpoints but its checkpoint log \(logged) entries (edited or damaged)"
                )
            }
        case .postgres:
            guard logged > 0 else {
                guard try db.row("SELECT 1 FROM gateway_block LIMIT 1") == nil else {
                    throw StoreDamage("\(store) holds checkpoints but its checkpoint log is empty (edited or damaged)")
                }
                return
            }
            guard let last = try db.row("SELECT bytes FROM log_entry WHERE idx = ?", [.unsigned(logged - 1)]) else {
                throw StoreDamage(
                    "\(store): the checkpoint log's last entry \(logged - 1) is missing (edited or damaged)"
                )
            }
            let checkpoint = try SignedCheckpoint(bytes: try last.bytes(0))
            let c = checkpoint.payload
            guard try AuthorityStore.acceptedTipHeight(db, gateway: c.gateway) == c.height,
                try AuthorityStore.acceptedBlock(db, gateway: c.gateway, height: c.height)?.checkpoint == checkpoint
            else {
                throw StoreDamage(
                    "\(store): the checkpoint log's last entry (gateway \(c.gateway.hex), block \(c.height)) is not the checkpoint of that gateway's last accepted block (edited or damaged)"
                )
            }
        }
    }

    /// The log's size and root.
    package static func head(_ db: any StoreConnection) throws -> LogHead {
        guard let row = try db.row("SELECT size, root FROM log_head WHERE id = 0") else {
            throw StoreDamage("the checkpoint log has no head row (log_head)")
        }
        let size = try row.integer(0)
        guard size >= 0, let hash = Hash256(bytes: try row.bytes(1)) else {
            throw StoreDamage("the checkpoint log's head row is damaged (log_head)")
        }
        return LogHead(size: UInt64(size), root: hash)
    }

    /// The stored hashes of a tile (empty when it has none yet).
    static func storedTile(level: Int, index: UInt64, _ db: any StoreConnection) throws -> [Hash256] {
        guard
            let bytes = try db.row(
                "SELECT hashes FROM log_tile WHERE level = ? AND idx = ?",
                [.integer(Int64(level)), .unsigned(index)]
            )?.bytes(0)
        else { return [] }
        guard bytes.count % 32 == 0, bytes.count <= 32 * TilePath.width else {
            throw StoreDamage("tile \(level)/\(index) of the checkpoint log holds \(bytes.count) bytes")
        }
        return stride(from: 0, to: bytes.count, by: 32).map { Hash256(bytes: bytes[$0..<$0 + 32])! }
    }

    /// The bytes of the tile or entry bundle at `path`, or nil when the log's tree does not
    /// have it (yet).
    package static func resource(_ path: TilePath, _ db: any StoreConnection) throws -> [UInt8]? {
        let head = try self.head(db)
        guard TiledTree.contains(path, treeSize: head.size) else { return nil }
        switch path.kind {
        case let .hashes(level):
            let hashes = try storedTile(level: level, index: path.index, db)
            guard hashes.count >= path.width else {
                throw TiledTreeError.tileShort(level: level, index: path.index, held: hashes.count)
            }
            return hashes[0..<path.width].flatMap(\.bytes)
        case .entries:
            let start = path.index * UInt64(TilePath.width)
            let entries = try db.rows(
                "SELECT bytes FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
                [.unsigned(start), .unsigned(start + UInt64(path.width))]
            ).map { try $0.bytes(0) }
            guard entries.count == path.width else {
                throw StoreDamage("entry bundle \(path.index) of the checkpoint log holds \(entries.count) entries")
            }
            return try EntryBundle.encode(entries)
        }
    }
}

/// The checkpoint log's size and root hash.
package struct LogHead: Hashable, Sendable {
    package var size: UInt64
    package var root: Hash256
}

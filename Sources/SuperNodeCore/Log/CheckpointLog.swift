import Foundation
import GRDB
import LedgerLite

/// The super node's own append-only log of the checkpoints it issues, published as C2SP
/// tlog-tiles: entry `i` is the `i`-th signed checkpoint's bytes, verbatim. The store keeps
/// the entries, every tile (each tile row grows until it is full, then never changes) and
/// the head (size and root), so serving the checkpoint or any tile reads O(one tile) rows,
/// however long the log.
///
/// Appending happens in the transaction that stores the checkpoint (`SuperNode`'s push), on
/// the store's one writer: the process that holds the store is the log's one sequencer.
package enum CheckpointLog {
    /// Creates the log's tables (the store's migration `authority-v5-checkpoint-log`).
    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE log_entry (
                    idx INTEGER PRIMARY KEY,
                    bytes BLOB NOT NULL
                );
                CREATE TABLE log_tile (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hashes BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                ) WITHOUT ROWID;
                CREATE TABLE log_head (
                    id INTEGER PRIMARY KEY CHECK (id = 0),
                    size INTEGER NOT NULL,
                    root BLOB NOT NULL
                );
                """
        )
        try db.execute(
            sql: "INSERT INTO log_head (id, size, root) VALUES (0, 0, ?)",
            arguments: [Data(Merkle.emptyRoot.bytes)]
        )
    }

    /// Appends the checkpoints issued before the log existed, in the order they were issued
    /// (`gateway_block` rows are only ever inserted, so their rowid is the issue order), a
    /// bounded batch at a time.
    static func backfill(_ db: Database) throws {
        var after: Int64 = 0
        while true {
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT rowid, checkpoint FROM gateway_block WHERE rowid > ? ORDER BY rowid LIMIT 4096",
                arguments: [after]
            )
            guard let last = rows.last else { return }
            after = last[0]
            try append(
                rows.map { row -> [UInt8] in
                    let bytes: Data = row[1]
                    return Array(bytes)
                },
                db
            )
        }
    }

    /// Appends `entries` to the log, in the caller's transaction.
    /// - Returns: the log's head after them.
    @discardableResult
    package static func append(_ entries: [[UInt8]], _ db: Database) throws -> LogHead {
        let head = try self.head(db)
        var appender = TileAppender(size: head.size) { level, index in try storedTile(level: level, index: index, db) }
        for (index, entry) in entries.enumerated() {
            guard entry.count <= EntryBundle.maxEntryLength else {
                throw EntryBundleError.entryTooLong(index: index, length: entry.count)
            }
            try db.execute(
                sql: "INSERT INTO log_entry (idx, bytes) VALUES (?, ?)",
                arguments: [Int64(bitPattern: appender.size), Data(entry)]
            )
            try appender.append(leafHash: Merkle.leafHash(entry))
        }
        for tile in appender.changedTiles {
            var blob = Data(capacity: tile.hashes.count * 32)
            for hash in tile.hashes { blob.append(contentsOf: hash.bytes) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO log_tile (level, idx, hashes) VALUES (?, ?, ?)",
                arguments: [tile.level, Int64(bitPattern: tile.index), blob]
            )
        }
        let next = LogHead(size: appender.size, root: try appender.root())
        try db.execute(
            sql: "UPDATE log_head SET size = ?, root = ? WHERE id = 0",
            arguments: [Int64(bitPattern: next.size), Data(next.root.bytes)]
        )
        return next
    }

    /// The log's size and root.
    package static func head(_ db: Database) throws -> LogHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT size, root FROM log_head WHERE id = 0") else {
            throw StoreDamage("the checkpoint log has no head row (log_head)")
        }
        let size: Int64 = row[0]
        let root: Data = row[1]
        guard size >= 0, let hash = Hash256(bytes: root) else {
            throw StoreDamage("the checkpoint log's head row is damaged (log_head)")
        }
        return LogHead(size: UInt64(size), root: hash)
    }

    /// The stored hashes of a tile (empty when it has none yet).
    static func storedTile(level: Int, index: UInt64, _ db: Database) throws -> [Hash256] {
        guard
            let blob = try Data.fetchOne(
                db,
                sql: "SELECT hashes FROM log_tile WHERE level = ? AND idx = ?",
                arguments: [level, Int64(bitPattern: index)]
            )
        else { return [] }
        guard blob.count % 32 == 0, blob.count <= 32 * TilePath.width else {
            throw StoreDamage("tile \(level)/\(index) of the checkpoint log holds \(blob.count) bytes")
        }
        let bytes = Array(blob)
        return stride(from: 0, to: bytes.count, by: 32).map { Hash256(bytes: bytes[$0..<$0 + 32])! }
    }

    /// The bytes of the tile or entry bundle at `path`, or nil when the log's tree does not
    /// have it (yet).
    package static func resource(_ path: TilePath, _ db: Database) throws -> [UInt8]? {
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
            let entries = try Data.fetchAll(
                db,
                sql: "SELECT bytes FROM log_entry WHERE idx >= ? AND idx < ? ORDER BY idx",
                arguments: [Int64(bitPattern: start), Int64(bitPattern: start + UInt64(path.width))]
            ).map { Array($0) }
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

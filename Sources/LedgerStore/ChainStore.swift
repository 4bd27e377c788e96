import Foundation
import GRDB
import LedgerLite

/// The chain on disk: SQLite through GRDB, in WAL mode with `synchronous = FULL`.
///
/// - Every block is appended in one transaction (header row, entry rows and index rows),
///   so a crash or `kill -9` at any moment leaves the last committed block intact and
///   no part of an uncommitted one.
/// - Entries are stored as their exact envelope bytes; look-up tables (readings by meter,
///   dispatches by request) only point at them.
/// - Opening runs a start-up check (`StoreCheck`) and throws `ChainStoreError` naming what
///   it found when the store is torn or edited.
///
/// All methods are synchronous and block on SQLite I/O: call them from a thread of your
/// own (or a dedicated executor), never from the cooperative pool. The type is `Sendable`;
/// GRDB serialises writes and lets reads run concurrently.
public final class ChainStore: RawBlockSource, Sendable {
    /// How much `init` checks before returning.
    public enum StoreCheck: Sendable {
        /// Heights, hash links, stored hashes, entry counts, entry indices and tree sizes.
        case structure
        /// `structure`, plus every block's Merkle root recomputed from the stored entries.
        case full
        /// No check: for forensic tools, and for `ChainVerifier`, which checks everything
        /// itself and names failures down to the entry.
        case none
    }

    /// Path of the SQLite database file.
    public let path: String
    /// Where writes go.
    let pool: DatabasePool
    /// Where reads go: `pool`, or one frozen state of it (`frozen()`).
    let reader: any DatabaseReader
    /// Called after each entry row is written during `append` (tests inject crashes here).
    let afterEntryInsert: (@Sendable (Int) throws -> Void)?

    /// Opens (creating if needed) the store at `path` and checks it.
    /// - Throws: `ChainStoreError` when the check finds damage; GRDB's `DatabaseError` when
    ///   SQLite cannot open the file.
    public convenience init(path: String, check: StoreCheck = .full) throws {
        try self.init(path: path, check: check, afterEntryInsert: nil)
    }

    init(path: String, check: StoreCheck, afterEntryInsert: (@Sendable (Int) throws -> Void)?) throws {
        self.path = path
        self.afterEntryInsert = afterEntryInsert
        var config = Configuration()
        // Another connection (a closing pool's final checkpoint, `inspect` beside `serve`)
        // may hold a lock for a moment: wait for it rather than fail at once.
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        reader = pool
        try Self.migrator.migrate(pool)
        try checkIntegrity(check)
    }

    private init(frozenFrom store: ChainStore) throws {
        path = store.path
        afterEntryInsert = nil
        pool = store.pool
        reader = try store.pool.makeSnapshot()
    }

    /// The store as it is now, for reads only: every read of the returned store sees this
    /// state, whatever is written meanwhile (an `archive` pruning blocks, a gateway sealing),
    /// so a long check (`edge-gateway verify`) reads one consistent chain. It holds an SQLite
    /// read transaction open while it lives, which keeps the WAL from being checkpointed past
    /// it: drop it when done.
    public func frozen() throws -> ChainStore {
        try ChainStore(frozenFrom: self)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("ledger-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE block (
                        height INTEGER PRIMARY KEY,
                        hash BLOB NOT NULL UNIQUE,
                        signed_header BLOB NOT NULL,
                        tree_size INTEGER NOT NULL,
                        entry_count INTEGER NOT NULL,
                        first_ts INTEGER NOT NULL,
                        last_ts INTEGER NOT NULL
                    );
                    CREATE TABLE entry (
                        idx INTEGER PRIMARY KEY,
                        height INTEGER NOT NULL,
                        type INTEGER NOT NULL,
                        signer BLOB NOT NULL,
                        bytes BLOB NOT NULL
                    );
                    CREATE INDEX entry_by_height ON entry(height, idx);
                    CREATE INDEX entry_by_type ON entry(type, idx);
                    CREATE TABLE reading (
                        meter BLOB NOT NULL,
                        seq INTEGER NOT NULL,
                        ts INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        PRIMARY KEY (meter, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX reading_by_time ON reading(meter, ts);
                    CREATE TABLE dispatch (
                        consumer BLOB NOT NULL,
                        seq INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        PRIMARY KEY (consumer, seq)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration("merkle-nodes-v1") { db in
            try createMerkleNodes(db)
        }
        migrator.registerMigration("lean-rows-v1") { db in
            try slimRows(db)
        }
        migrator.registerMigration("resume-snapshot-v1") { db in
            try createResumeSnapshot(db)
        }
        migrator.registerMigration("archive-v1") { db in
            try createArchiveTables(db)
        }
        return migrator
    }

    /// `entry_by_type` leaves readings out (they are most entries, and the `reading` table
    /// finds them): a query by type names this condition so SQLite can use the index.
    static func typeIndexed(_ type: RecordType) -> String {
        type == .reading ? "1" : "type != \(RecordType.reading.rawValue)"
    }

    /// Lean rows (issue 14): an entry's signer is in its bytes, a block's entries are its index
    /// range, readings name their meter by a small number, and the type index leaves readings
    /// out. Rewrites the tables once, in the migration's transaction.
    static func slimRows(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE entry_lean (
                    idx INTEGER PRIMARY KEY,
                    height INTEGER NOT NULL,
                    type INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                );
                INSERT INTO entry_lean (idx, height, type, bytes) SELECT idx, height, type, bytes FROM entry;
                DROP TABLE entry;
                ALTER TABLE entry_lean RENAME TO entry;
                CREATE INDEX entry_by_type ON entry(type, idx) WHERE type != \(RecordType.reading.rawValue);
                CREATE TABLE meter (no INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE);
                INSERT INTO meter (id) SELECT DISTINCT meter FROM reading ORDER BY meter;
                CREATE TABLE reading_lean (
                    meter_no INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    ts INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    PRIMARY KEY (meter_no, seq)
                ) WITHOUT ROWID;
                INSERT INTO reading_lean (meter_no, seq, ts, idx)
                    SELECT m.no, r.seq, r.ts, r.idx FROM reading r JOIN meter m ON m.id = r.meter;
                DROP TABLE reading;
                ALTER TABLE reading_lean RENAME TO reading;
                CREATE INDEX reading_by_time ON reading(meter_no, ts);
                """
        )
    }

    // MARK: append

    /// Appends a sealed block and its entries in one transaction, with `snapshot` (the
    /// resume snapshot after this block, opaque here) replacing the stored one when given.
    /// - Throws: `ChainStoreError.appendRejected` when the block does not extend the stored
    ///   tip (height, previous hash, tree size or entry count); nothing is written then.
    public func append(_ block: Block, snapshot: [UInt8]? = nil) throws {
        let header = block.header.header
        let hook = afterEntryInsert
        try pool.write { db in
            let tip = try Self.tip(db)
            let expectedHeight = tip.map { $0.height + 1 } ?? 0
            guard header.height == expectedHeight else {
                throw ChainStoreError.appendRejected(
                    height: header.height,
                    reason: "the next block must have height \(expectedHeight)"
                )
            }
            guard header.previousHash == (tip?.hash ?? .zero) else {
                throw ChainStoreError.appendRejected(
                    height: header.height,
                    reason: "its previous hash is not the stored tip's hash"
                )
            }
            guard Int(header.entryCount) == block.entries.count,
                header.treeSize == (tip?.treeSize ?? 0) + UInt64(block.entries.count)
            else {
                throw ChainStoreError.appendRejected(
                    height: header.height,
                    reason: "its entry count or tree size does not match its entries"
                )
            }
            try db.execute(
                sql:
                    "INSERT INTO block (height, hash, signed_header, tree_size, entry_count, first_ts, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    Int64(bitPattern: header.height), Data(block.hash.bytes), Data(block.header.bytes),
                    Int64(bitPattern: header.treeSize), Int64(header.entryCount), header.firstTimestamp,
                    header.lastTimestamp,
                ]
            )
            let insertEntry = try db.cachedStatement(
                sql: "INSERT INTO entry (idx, height, type, bytes) VALUES (?, ?, ?, ?)"
            )
            let insertMeter = try db.cachedStatement(sql: "INSERT OR IGNORE INTO meter (id) VALUES (?)")
            let insertReading = try db.cachedStatement(
                sql:
                    "INSERT INTO reading (meter_no, seq, ts, idx) VALUES ((SELECT no FROM meter WHERE id = ?), ?, ?, ?)"
            )
            let insertDispatch = try db.cachedStatement(
                sql: "INSERT INTO dispatch (consumer, seq, idx) VALUES (?, ?, ?)"
            )
            var index = Int64(bitPattern: block.firstEntryIndex)
            let height = Int64(bitPattern: header.height)
            for (position, entry) in block.entries.enumerated() {
                try insertEntry.execute(arguments: [
                    index, height, Int64(entry.record.type.rawValue), Data(entry.bytes),
                ])
                switch entry.record {
                case let .reading(r):
                    try insertMeter.execute(arguments: [Data(r.meter.bytes)])
                    try insertReading.execute(arguments: [
                        Data(r.meter.bytes), Int64(bitPattern: r.sequence), r.timestamp, index,
                    ])
                case let .dispatch(d):
                    try insertDispatch.execute(arguments: [
                        Data(d.request.consumer.bytes), Int64(bitPattern: d.request.sequence), index,
                    ])
                default:
                    break
                }
                try hook?(position)
                index += 1
            }
            try Self.storeMerkleNodes(db, from: tip?.treeSize ?? 0, to: header.treeSize)
            if let snapshot { try Self.saveResumeSnapshot(db, snapshot, height: header.height) }
        }
    }

    // MARK: look-ups

    /// The latest block, nil for an empty store.
    public func tip() throws -> ChainTip? {
        try reader.read { try Self.tip($0) }
    }

    static func tip(_ db: Database) throws -> ChainTip? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT height, hash, tree_size, last_ts FROM block ORDER BY height DESC LIMIT 1"
            )
        else { return nil }
        let hashData: Data = row["hash"]
        let height = UInt64(bitPattern: row["height"])
        guard let hash = Hash256(bytes: hashData) else { throw ChainStoreError.storedHashMismatch(height: height) }
        return ChainTip(
            height: height,
            hash: hash,
            treeSize: UInt64(bitPattern: row["tree_size"]),
            lastTimestamp: row["last_ts"]
        )
    }

    /// Number of blocks.
    public func blockCount() throws -> UInt64 {
        try reader.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0) }
    }

    /// Number of entries.
    public func entryCount() throws -> UInt64 {
        try reader.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM entry") ?? 0) }
    }

    /// The signed header of the block at `height`.
    public func header(atHeight height: UInt64) throws -> SignedBlockHeader? {
        try reader.read { db in
            guard
                let data = try Data.fetchOne(
                    db,
                    sql: "SELECT signed_header FROM block WHERE height = ?",
                    arguments: [Int64(bitPattern: height)]
                )
            else { return nil }
            return try SignedBlockHeader(bytes: Array(data))
        }
    }

    /// The block at `height`, with its entries.
    public func block(atHeight height: UInt64) throws -> Block? {
        try reader.read { db in try Self.block(db, where: "height = ?", Int64(bitPattern: height)) }
    }

    /// The block whose hash is `hash`.
    public func block(hash: Hash256) throws -> Block? {
        try reader.read { db in try Self.block(db, where: "hash = ?", Data(hash.bytes)) }
    }

    private static func block(
        _ db: Database,
        where condition: String,
        _ argument: some DatabaseValueConvertible
    ) throws -> Block? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT height, signed_header, tree_size, entry_count FROM block WHERE \(condition)",
                arguments: [argument]
            )
        else { return nil }
        let header = try SignedBlockHeader(bytes: Array(row["signed_header"] as Data))
        let treeSize: Int64 = row["tree_size"]
        let count: Int64 = row["entry_count"]
        let entries = try Row.fetchAll(
            db,
            sql: "SELECT bytes FROM entry WHERE idx >= ? AND idx < ? ORDER BY idx",
            arguments: [treeSize - count, treeSize]
        )
        .map { try SignedRecord(bytes: Array($0["bytes"] as Data)) }
        return Block(header: header, entries: entries)
    }

    /// The entry with global index `index`.
    public func entry(at index: UInt64) throws -> StoredEntry? {
        try reader.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT idx, height, bytes FROM entry WHERE idx = ?",
                arguments: [Int64(bitPattern: index)]
            )
            .map(StoredEntry.init(row:))
        }
    }

    /// The Merkle leaf hashes of the entries with indices in `range`, in index order
    /// (a pruned `MerkleTree` reads finished chunks back through this). Returns fewer
    /// hashes than the range holds when entries are missing.
    public func leafHashes(in range: Range<UInt64>) throws -> [Hash256] {
        try reader.read { db in try Self.leafHashes(db, in: range) }
    }

    /// The reading `sequence` of `meter`.
    public func reading(meter: MeterID, sequence: UInt64) throws -> StoredEntry? {
        try reader.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT e.idx, e.height, e.bytes FROM reading r JOIN entry e ON e.idx = r.idx
                    WHERE r.meter_no = (SELECT no FROM meter WHERE id = ?) AND r.seq = ?
                    """,
                arguments: [Data(meter.bytes), Int64(bitPattern: sequence)]
            ).map(StoredEntry.init(row:))
        }
    }

    /// `meter`'s reading with the highest sequence number, if any.
    public func latestReading(meter: MeterID) throws -> StoredEntry? {
        try reader.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT e.idx, e.height, e.bytes FROM reading r JOIN entry e ON e.idx = r.idx
                    WHERE r.meter_no = (SELECT no FROM meter WHERE id = ?) ORDER BY r.seq DESC LIMIT 1
                    """,
                arguments: [Data(meter.bytes)]
            ).map(StoredEntry.init(row:))
        }
    }

    /// `meter`'s readings with `from ≤ timestamp < until` (ms since the Unix epoch), by timestamp.
    public func readings(meter: MeterID, from: Int64, until: Int64, limit: Int = 10_000) throws -> [StoredEntry] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.idx, e.height, e.bytes FROM reading r JOIN entry e ON e.idx = r.idx
                    WHERE r.meter_no = (SELECT no FROM meter WHERE id = ?) AND r.ts >= ? AND r.ts < ?
                    ORDER BY r.ts, r.seq LIMIT ?
                    """,
                arguments: [Data(meter.bytes), from, until, limit]
            ).map(StoredEntry.init(row:))
        }
    }

    /// `meter`'s newest readings with `timestamp ≤ time` (ms since the Unix epoch), newest
    /// first, at most `limit`: one index seek (`reading_by_time`), whatever the history.
    public func readings(meter: MeterID, atOrBefore time: Int64, limit: Int) throws -> [StoredEntry] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.idx, e.height, e.bytes FROM reading r JOIN entry e ON e.idx = r.idx
                    WHERE r.meter_no = (SELECT no FROM meter WHERE id = ?) AND r.ts <= ?
                    ORDER BY r.ts DESC, r.seq DESC LIMIT ?
                    """,
                arguments: [Data(meter.bytes), time, limit]
            ).map(StoredEntry.init(row:))
        }
    }

    /// The dispatch answering `request`, if any.
    public func dispatch(for request: RequestReference) throws -> StoredEntry? {
        try reader.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT e.idx, e.height, e.bytes FROM dispatch d JOIN entry e ON e.idx = d.idx
                    WHERE d.consumer = ? AND d.seq = ?
                    """,
                arguments: [Data(request.consumer.bytes), Int64(bitPattern: request.sequence)]
            ).map(StoredEntry.init(row:))
        }
    }

    /// Entries of `type` with index ≥ `fromIndex`, in index order (page with the last index + 1).
    public func entries(ofType type: RecordType, fromIndex: UInt64 = 0, limit: Int = 1000) throws -> [StoredEntry] {
        try reader.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT idx, height, bytes FROM entry WHERE type = ? AND \(Self.typeIndexed(type)) AND idx >= ? ORDER BY idx LIMIT ?",
                arguments: [Int64(type.rawValue), Int64(bitPattern: fromIndex), limit]
            ).map(StoredEntry.init(row:))
        }
    }

    /// Dispatch entries from `fromIndex` on.
    public func dispatches(fromIndex: UInt64 = 0, limit: Int = 1000) throws -> [StoredEntry] {
        try entries(ofType: .dispatch, fromIndex: fromIndex, limit: limit)
    }

    /// Anomaly entries from `fromIndex` on.
    public func anomalies(fromIndex: UInt64 = 0, limit: Int = 1000) throws -> [StoredEntry] {
        try entries(ofType: .anomaly, fromIndex: fromIndex, limit: limit)
    }

    // MARK: raw access for checks

    /// Calls `body` with each stored block after the archive boundary (`archivedPrefix()`;
    /// every block when nothing was archived), in height order, inside one read transaction
    /// (a consistent snapshot). Nothing is decoded.
    public func forEachRawBlock(_ body: (RawBlock) throws -> Void) throws {
        try reader.read { db in
            let boundary = try Self.archiveBoundaryHeight(db).map { Int64(bitPattern: $0) } ?? -1
            let blocks = try Row.fetchCursor(
                db,
                sql:
                    "SELECT height, hash, signed_header, tree_size, entry_count FROM block WHERE height > ? ORDER BY height",
                arguments: [boundary]
            )
            // A block's entries are the index range its row names, each carrying its height: a
            // row missing, moved or renumbered leaves the block short, which the checks name.
            let entries = try db.cachedStatement(
                sql: "SELECT idx, bytes FROM entry WHERE idx >= ? AND idx < ? AND height = ? ORDER BY idx"
            )
            while let row = try blocks.next() {
                let height: Int64 = row["height"]
                let treeSize: Int64 = row["tree_size"]
                let count: Int64 = row["entry_count"]
                var raw = RawBlock(
                    rowHeight: UInt64(bitPattern: height),
                    storedHash: Array(row["hash"] as Data),
                    signedHeader: Array(row["signed_header"] as Data),
                    entries: []
                )
                let cursor = try Row.fetchCursor(entries, arguments: [treeSize - count, treeSize, height])
                while let e = try cursor.next() {
                    raw.entries.append((UInt64(bitPattern: e["idx"]), Array(e["bytes"] as Data)))
                }
                try body(raw)
            }
        }
    }

    /// Number of entry rows beyond the last block's tree size (written without their block).
    /// Rows inside a block's range that do not belong to it leave that block short instead.
    public func orphanEntries() throws -> (count: Int, firstIndex: UInt64?) {
        try reader.read { db in
            let treeSize = try Self.tip(db)?.treeSize ?? 0
            let row = try Row.fetchOne(
                db,
                sql: "SELECT COUNT(*) AS n, MIN(idx) AS first FROM entry WHERE idx >= ?",
                arguments: [Int64(bitPattern: treeSize)]
            )
            let count: Int = row?["n"] ?? 0
            let first: Int64? = row?["first"]
            return (count, first.map { UInt64(bitPattern: $0) })
        }
    }
}

/// An entry read from the store, with where it sits in the chain.
public struct StoredEntry: Hashable, Sendable {
    /// Global entry index (the Merkle leaf index).
    public var index: UInt64
    /// Height of the block holding it.
    public var height: UInt64
    /// The entry, with its exact stored bytes.
    public var entry: SignedRecord

    init(row: Row) throws {
        index = UInt64(bitPattern: row["idx"])
        height = UInt64(bitPattern: row["height"])
        entry = try SignedRecord(bytes: Array(row["bytes"] as Data))
    }
}

extension ChainStore {
    /// Runs raw SQL against the store. Internal, for tests that tamper with a store the way
    /// an attacker with file access would; nothing in the library calls it.
    func executeRawSQLForTesting(_ sql: String) throws {
        try pool.write { db in try db.execute(sql: sql) }
    }
}

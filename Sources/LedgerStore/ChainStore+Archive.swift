import Crypto
import Foundation
import GRDB
import LedgerLite

/// What the live store keeps of blocks moved into archive segments (`ArchiveSegment`).
///
/// - `archive_segment`: one row per segment whose blocks were pruned (its name, heights,
///   index range and file hash), so a look-up of a pruned entry names where it went.
/// - `archive_boundary`: one row, the chain snapshot after the last archived block (the
///   verifier and the start-up check continue from it; that block's signed header, still in
///   `block`, vouches for it).
/// - `archived_reading`: for each pruned reading, its meter, sequence, index and the SHA-256
///   of its bytes: what tells a meter's resent duplicate from an equivocation after the
///   reading itself left the store.
///
/// Block rows (headers) and Merkle nodes stay: proofs of later entries and the uplink read
/// them. Only readings are pruned, and only those in complete chunks of `nodeLevel` entries
/// (whose Merkle node is stored, so no later proof needs their leaves), except each meter's
/// latest reading (the writer's memory names it). Other entries (enrollments, offers,
/// requests, dispatches, anomalies, escalations) are few and stay.
extension ChainStore {
    /// A segment whose blocks were archived and pruned.
    public struct ArchivedSegmentRow: Sendable, Hashable {
        public var name: String
        public var firstHeight: UInt64
        public var lastHeight: UInt64
        public var firstIndex: UInt64
        public var endIndex: UInt64
        public var fileHash: Hash256
    }

    /// A pruned reading: where it was, the SHA-256 of its bytes, and its segment.
    public struct ArchivedReading: Sendable, Hashable {
        public var index: UInt64
        public var digest: Hash256
        public var segment: ArchivedSegmentRow?
    }

    /// What one archive transaction did.
    public struct PruneSummary: Sendable, Hashable {
        /// Readings removed from the live store.
        public var readings: Int
    }

    static func createArchiveTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE archive_segment (
                    first_height INTEGER PRIMARY KEY,
                    last_height INTEGER NOT NULL,
                    first_index INTEGER NOT NULL,
                    end_index INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    file_hash BLOB NOT NULL
                );
                CREATE TABLE archive_boundary (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    height INTEGER NOT NULL,
                    snapshot BLOB NOT NULL
                );
                CREATE TABLE archived_reading (
                    meter_no INTEGER NOT NULL,
                    seq INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    digest BLOB NOT NULL,
                    PRIMARY KEY (meter_no, seq)
                ) WITHOUT ROWID;
                """
        )
    }

    /// Height of the last archived block, nil when nothing was archived.
    static func archiveBoundaryHeight(_ db: Database) throws -> UInt64? {
        try Int64.fetchOne(db, sql: "SELECT height FROM archive_boundary WHERE id = 1").map {
            UInt64(bitPattern: $0)
        }
    }

    static func archivedPrefix(_ db: Database) throws -> ArchivedPrefix? {
        guard let row = try Row.fetchOne(db, sql: "SELECT height, snapshot FROM archive_boundary WHERE id = 1")
        else { return nil }
        let height = UInt64(bitPattern: row["height"])
        guard
            let headerBytes = try Data.fetchOne(
                db,
                sql: "SELECT signed_header FROM block WHERE height = ?",
                arguments: [Int64(bitPattern: height)]
            )
        else { throw ChainStoreError.archiveBoundary(height: height, "its block header is missing") }
        do {
            let header = try SignedBlockHeader(bytes: Array(headerBytes))
            let bytes = Array(row["snapshot"] as Data)
            var r = ByteReader(bytes[...])
            let snapshot = try ChainSnapshot(from: &r)
            try r.finish()
            return ArchivedPrefix(snapshot: snapshot, header: header)
        } catch {
            throw ChainStoreError.archiveBoundary(height: height, "it does not decode: \(error)")
        }
    }

    /// The chain up to the last archived block (its snapshot and signed header, not checked
    /// against each other here: the verifier does); nil when nothing was archived.
    public func archivedPrefix() throws -> ArchivedPrefix? {
        try reader.read { try Self.archivedPrefix($0) }
    }

    /// The highest block whose last entry is timestamped before `time` (ms since the Unix
    /// epoch); blocks' times never decrease, so every block below it ended before too.
    public func lastHeight(endingBefore time: Int64) throws -> UInt64? {
        try reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM block WHERE last_ts < ?", arguments: [time]).map {
                UInt64(bitPattern: $0)
            }
        }
    }

    /// The archived segments, by height.
    public func archivedSegments() throws -> [ArchivedSegmentRow] {
        try reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM archive_segment ORDER BY first_height").map(Self.segmentRow)
        }
    }

    private static func segmentRow(_ row: Row) -> ArchivedSegmentRow {
        ArchivedSegmentRow(
            name: row["name"],
            firstHeight: UInt64(bitPattern: row["first_height"]),
            lastHeight: UInt64(bitPattern: row["last_height"]),
            firstIndex: UInt64(bitPattern: row["first_index"]),
            endIndex: UInt64(bitPattern: row["end_index"]),
            fileHash: Hash256(bytes: row["file_hash"] as Data) ?? .zero
        )
    }

    /// The recorded segment holding the entry with global index `index`, nil when that entry
    /// was never archived.
    public func archivedSegment(containingIndex index: UInt64) throws -> ArchivedSegmentRow? {
        try reader.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM archive_segment WHERE first_index <= ? AND end_index > ?",
                arguments: [Int64(bitPattern: index), Int64(bitPattern: index)]
            ).map(Self.segmentRow)
        }
    }

    /// The pruned reading `sequence` of `meter`, nil when it was never pruned.
    public func archivedReading(meter: MeterID, sequence: UInt64) throws -> ArchivedReading? {
        try reader.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT idx, digest FROM archived_reading
                        WHERE meter_no = (SELECT no FROM meter WHERE id = ?) AND seq = ?
                        """,
                    arguments: [Data(meter.bytes), Int64(bitPattern: sequence)]
                )
            else { return nil }
            let index: Int64 = row["idx"]
            let segment = try Row.fetchOne(
                db,
                sql: "SELECT * FROM archive_segment WHERE first_index <= ? AND end_index > ?",
                arguments: [index, index]
            ).map(Self.segmentRow)
            return ArchivedReading(
                index: UInt64(bitPattern: index),
                digest: Hash256(bytes: row["digest"] as Data) ?? .zero,
                segment: segment
            )
        }
    }

    /// Records that `segment`, written and verified as the file `name` (SHA-256 `fileHash`),
    /// holds the blocks after the archive boundary, moves the boundary to its last block with
    /// `endSnapshot` (the chain snapshot after it), and prunes the readings it made prunable:
    /// all in one transaction, so a crash leaves either nothing of it or all of it.
    /// - Throws: `ChainStoreError.archiveRejected` when the segment does not start at the
    ///   boundary or its blocks are not the stored ones; nothing is written then.
    public func recordArchive(
        _ segment: ArchiveSegment,
        name: String,
        fileHash: Hash256,
        endSnapshot: [UInt8]
    ) throws -> PruneSummary {
        try pool.write { db in
            let expected = try Self.archiveBoundaryHeight(db).map { $0 + 1 } ?? 0
            guard segment.firstHeight == expected, !segment.blocks.isEmpty else {
                throw ChainStoreError.archiveRejected(
                    "segment \(name) starts at block \(segment.firstHeight), the archive boundary is before block \(expected)"
                )
            }
            let stored = try db.cachedStatement(sql: "SELECT signed_header FROM block WHERE height = ?")
            for block in segment.blocks {
                let bytes = try Data.fetchOne(stored, arguments: [Int64(bitPattern: block.height)])
                guard bytes.map(Array.init) == block.header.bytes else {
                    throw ChainStoreError.archiveRejected(
                        "block \(block.height) of segment \(name) is not the stored block \(block.height)"
                    )
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO archive_segment (first_height, last_height, first_index, end_index, name, file_hash)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(bitPattern: segment.firstHeight), Int64(bitPattern: segment.lastHeight),
                    Int64(bitPattern: segment.firstIndex), Int64(bitPattern: segment.endIndex), name,
                    Data(fileHash.bytes),
                ]
            )
            try db.execute(
                sql: "INSERT OR REPLACE INTO archive_boundary (id, height, snapshot) VALUES (1, ?, ?)",
                arguments: [Int64(bitPattern: segment.lastHeight), Data(endSnapshot)]
            )
            return PruneSummary(readings: try Self.pruneReadings(db, below: segment.endIndex))
        }
    }

    /// Removes the readings with index below `end` rounded down to a whole chunk, except each
    /// meter's latest, keeping their digests in `archived_reading`.
    static func pruneReadings(_ db: Database, below end: UInt64) throws -> Int {
        let chunk = UInt64(1) << UInt64(nodeLevel)
        let limit = Int64(bitPattern: end / chunk * chunk)
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.meter_no, r.seq, r.idx, e.bytes FROM reading r JOIN entry e ON e.idx = r.idx
                WHERE r.idx < ? AND r.seq < (SELECT MAX(l.seq) FROM reading l WHERE l.meter_no = r.meter_no)
                """,
            arguments: [limit]
        )
        let keep = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO archived_reading (meter_no, seq, idx, digest) VALUES (?, ?, ?, ?)"
        )
        let dropEntry = try db.cachedStatement(sql: "DELETE FROM entry WHERE idx = ?")
        let dropReading = try db.cachedStatement(sql: "DELETE FROM reading WHERE meter_no = ? AND seq = ?")
        for row in rows {
            let meter: Int64 = row["meter_no"]
            let seq: Int64 = row["seq"]
            let index: Int64 = row["idx"]
            let bytes: Data = row["bytes"]
            try keep.execute(arguments: [meter, seq, index, Data(SHA256.hash(data: bytes))])
            try dropEntry.execute(arguments: [index])
            try dropReading.execute(arguments: [meter, seq])
        }
        return rows.count
    }
}

import Foundation
import GRDB
import LedgerLite

/// The resume snapshot: one row (`resume_snapshot`) holding what the gateway needs to go
/// on after a block without replaying the chain, written in the transaction that appends
/// that block (or alone, after a full verification). Its bytes are the gateway's format
/// (docs/FORMATS.md, "Resume snapshot"); the store only keeps them with their height.
extension ChainStore {
    /// A stored resume snapshot: the height of the block it was taken after, and its bytes.
    public struct ResumeSnapshotRow: Sendable, Hashable {
        public var height: UInt64
        public var bytes: [UInt8]
    }

    static func createResumeSnapshot(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE resume_snapshot (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    height INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                )
                """
        )
    }

    static func saveResumeSnapshot(_ db: Database, _ bytes: [UInt8], height: UInt64) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO resume_snapshot (id, height, bytes) VALUES (1, ?, ?)",
            arguments: [Int64(bitPattern: height), Data(bytes)]
        )
    }

    /// The stored resume snapshot, nil when there is none (a store written before them).
    public func resumeSnapshot() throws -> ResumeSnapshotRow? {
        try reader.read { db in
            try Row.fetchOne(db, sql: "SELECT height, bytes FROM resume_snapshot WHERE id = 1").map {
                ResumeSnapshotRow(height: UInt64(bitPattern: $0["height"]), bytes: Array($0["bytes"] as Data))
            }
        }
    }

    /// Stores `bytes` as the resume snapshot after the block at `height`, which must be the
    /// stored tip (after a full verification of a store that had none).
    /// - Throws: `ChainStoreError.appendRejected` when `height` is not the tip's.
    public func saveResumeSnapshot(_ bytes: [UInt8], height: UInt64) throws {
        try pool.write { db in
            guard try Self.tip(db)?.height == height else {
                throw ChainStoreError.appendRejected(
                    height: height,
                    reason: "a resume snapshot must be of the stored tip"
                )
            }
            try Self.saveResumeSnapshot(db, bytes, height: height)
        }
    }
}

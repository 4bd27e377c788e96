import Foundation
import GRDB
import LedgerLite

/// The audit snapshots: one row per audited gateway (`audit_snapshot`), what the super node
/// needs to go on auditing that gateway's chain after one of its accepted blocks without
/// replaying the blocks before it. Written in the transaction that accepts that block; its
/// bytes are `AuditSnapshot`'s format (docs/FORMATS.md, "Audit snapshot").
extension AuthorityStore {
    static func createAuditSnapshots(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit_snapshot (
                    gateway BLOB PRIMARY KEY,
                    height INTEGER NOT NULL,
                    bytes BLOB NOT NULL
                )
                """
        )
    }

    /// Stores `bytes` as `gateway`'s audit snapshot after its block at `height` (replacing
    /// the one before).
    package static func saveAuditSnapshot(_ bytes: [UInt8], gateway: GatewayID, height: UInt64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO audit_snapshot (gateway, height, bytes) VALUES (?, ?, ?)",
            arguments: [Data(gateway.bytes), Int64(bitPattern: height), Data(bytes)]
        )
    }

    /// `gateway`'s audit snapshot: the height of the block it was taken after, and its bytes;
    /// nil when there is none (a store written before them, or a gateway with no block).
    package static func auditSnapshot(_ db: Database, gateway: GatewayID) throws -> (height: UInt64, bytes: [UInt8])? {
        try Row.fetchOne(
            db,
            sql: "SELECT height, bytes FROM audit_snapshot WHERE gateway = ?",
            arguments: [Data(gateway.bytes)]
        ).map { row in
            let height: Int64 = row["height"]
            let bytes: Data = row["bytes"]
            return (UInt64(bitPattern: height), Array(bytes))
        }
    }

    /// The height of `gateway`'s last accepted block, nil when it has none.
    package static func acceptedTipHeight(_ db: Database, gateway: GatewayID) throws -> UInt64? {
        try Int64.fetchOne(
            db,
            sql: "SELECT MAX(height) FROM gateway_block WHERE gateway = ?",
            arguments: [Data(gateway.bytes)]
        ).map { UInt64(bitPattern: $0) }
    }
}

import LedgerLite

/// The audit snapshots: one row per audited gateway (`audit_snapshot`), what the super node
/// needs to go on auditing that gateway's chain after one of its accepted blocks without
/// replaying the blocks before it. Written in the transaction that accepts that block; its
/// bytes are `AuditSnapshot`'s format (docs/FORMATS.md, "Audit snapshot").
extension AuthorityStore {
    /// Stores `bytes` as `gateway`'s audit snapshot after its block at `height` (replacing
    /// the one before).
    package static func saveAuditSnapshot(
        _ bytes: [UInt8],
        gateway: GatewayID,
        height: UInt64,
        _ db: any StoreConnection
    ) throws {
        try db.execute(
            """
            INSERT INTO audit_snapshot (gateway, height, bytes) VALUES (?, ?, ?)
            ON CONFLICT(gateway) DO UPDATE SET height = excluded.height, bytes = excluded.bytes
            """,
            [.blob(gateway.bytes), .unsigned(height), .bytes(bytes)]
        )
    }

    /// `gateway`'s audit snapshot: the height of the block it was taken after, and its bytes;
    /// nil when there is none (a store written before them, or a gateway with no block).
    package static func auditSnapshot(
        _ db: any StoreConnection,
        gateway: GatewayID
    ) throws -> (
        height: UInt64, bytes: [UInt8]
    )? {
        try db.row("SELECT height, bytes FROM audit_snapshot WHERE gateway = ?", [.blob(gateway.bytes)]).map {
            row in (try row.unsigned(0), try row.bytes(1))
        }
    }

    /// The height of `gateway`'s last accepted block, nil when it has none.
    package static func acceptedTipHeight(_ db: any StoreConnection, gateway: GatewayID) throws -> UInt64? {
        try db.row(
            "SELECT height FROM gateway_block WHERE gateway = ? ORDER BY height DESC LIMIT 1",
            [.blob(gateway.bytes)]
        ).map { try $0.unsigned(0) }
    }
}

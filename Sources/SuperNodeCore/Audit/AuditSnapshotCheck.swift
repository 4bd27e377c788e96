import LedgerLite

/// The full check start-up no longer does: a gateway's accepted chain audited again from its
/// first block, and its stored audit snapshot, restored as start-up restores it, compared
/// with that replay (what an auditor of the super node's store, and the fuzzer, run).
package enum AuditSnapshotCheck {
    /// What the check found of one gateway's audit snapshot.
    package enum Outcome: Sendable, Equatable {
        /// The gateway has no snapshot (a store written before them; the next start-up writes one).
        case missing
        /// Restored and moved to the tip, it equals the whole chain replayed.
        case matches(height: UInt64)
        /// What disagrees (one line).
        case differs(String)
    }

    /// Audits every accepted block of `gateway` again from its first, under its certified
    /// `key`, then checks its audit snapshot against that replay.
    /// - Throws: `StoreDamage` when a stored block no longer verifies.
    package static func check(
        gateway: GatewayID,
        key: PublicIdentity,
        storePath: String,
        _ db: any StoreConnection
    ) throws -> Outcome {
        var full = ChainAuditor(gatewayKey: key)
        try AuthorityStore.forEachBlock(db, gateway: gateway) { height, block in
            guard height == full.nextHeight else {
                throw StoreDamage(
                    "gateway \(gateway.hex): stored block \(height) where block \(full.nextHeight) was expected in \(storePath)"
                )
            }
            do { try full.append(block) } catch {
                throw StoreDamage(
                    "gateway \(gateway.hex): stored block no longer verifies: \(error) (\(storePath) was edited or damaged)"
                )
            }
        }
        guard let row = try AuthorityStore.auditSnapshot(db, gateway: gateway) else { return .missing }
        let restored: GatewayAudit.Restored
        do { restored = try GatewayAudit.restore(gateway: gateway, key: key, storePath: storePath, db) } catch let
            damage as StoreDamage
        {
            return .differs(damage.description)
        }
        guard let replayed = full.snapshot, let resumed = restored.audit.auditor.snapshot,
            AuditSnapshot.encoded(replayed) == AuditSnapshot.encoded(resumed)
        else {
            return .differs(
                "the audit snapshot of gateway \(gateway.hex) in \(storePath) (after block \(row.height)), moved to the tip, differs from its whole chain replayed"
            )
        }
        return .matches(height: row.height)
    }
}

extension AuditSnapshotCheck {
    /// Every audited gateway of `store` checked (`check`), in the order of their ids. Reads the
    /// whole history: for audits of the store (`super-node verify`), never for start-up.
    /// - Throws: `StoreDamage` when a stored block no longer verifies or has no certificate.
    package static func checkAll(_ store: AuthorityStore) async throws -> [(GatewayID, Outcome)] {
        let storePath = store.location
        return try await store.read { db in
            try AuthorityStore.auditedGateways(db).map { gateway in
                let key = try GatewayAudit.key(of: gateway, storePath: storePath, db)
                return (gateway, try check(gateway: gateway, key: key, storePath: storePath, db))
            }
        }
    }
}

extension SuperNode {
    /// Every audited gateway's chain audited again from its first block, and its audit
    /// snapshot checked against that replay (`AuditSnapshotCheck.checkAll`).
    /// - Throws: `StoreDamage` when a stored block no longer verifies or has no certificate.
    package func checkAuditSnapshots() async throws -> [GatewayID: AuditSnapshotCheck.Outcome] {
        Dictionary(uniqueKeysWithValues: try await AuditSnapshotCheck.checkAll(store))
    }
}

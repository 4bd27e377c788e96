import LedgerLite
import Logging

/// One gateway's audit between pushes: the auditor at its last accepted block, and how many
/// entries were accepted after its stored audit snapshot (the next one is due by
/// `ChainSnapshot.isDue`). What it holds depends on the gateway's live state (meters,
/// pending requests, the Merkle frontier), never on how many blocks were audited.
package struct GatewayAudit: Sendable {
    package var auditor: ChainAuditor
    package var entriesSinceSnapshot: UInt64

    /// The audit of a gateway that has no accepted block yet.
    package init(gatewayKey: PublicIdentity) {
        auditor = ChainAuditor(gatewayKey: gatewayKey)
        entriesSinceSnapshot = 0
    }

    init(auditor: ChainAuditor, entriesSinceSnapshot: UInt64) {
        self.auditor = auditor
        self.entriesSinceSnapshot = entriesSinceSnapshot
    }

    /// Counts `block`, just appended to the auditor, and gives the snapshot to store with it
    /// when one is due (`every` entries, see `ChainSnapshot.isDue`), nil otherwise. Call
    /// `snapshotStored()` once it is written in the block's transaction (an audit is kept
    /// only when that transaction commits).
    package mutating func snapshot(after block: Block, every: UInt64) -> ChainSnapshot? {
        entriesSinceSnapshot += UInt64(block.entries.count)
        guard let chain = auditor.snapshot, chain.tip.hash == block.hash,
            ChainSnapshot.isDue(
                afterHeight: block.height,
                entriesSince: entriesSinceSnapshot,
                every: every,
                meterCount: chain.state.tnt.meterCount
            )
        else { return nil }
        return chain
    }

    /// The snapshot `snapshot(after:every:)` gave is stored.
    package mutating func snapshotStored() {
        entriesSinceSnapshot = 0
    }

    /// How `restore` found a gateway's audit (for the start-up log).
    package struct Restored: Sendable {
        package var audit: GatewayAudit
        /// The block the stored snapshot was taken after; nil when there was none.
        package var snapshotHeight: UInt64?
        /// Blocks audited again at start-up (those after the snapshot, or all without one).
        package var replayedBlocks: Int
        /// True when the store had no snapshot of the gateway and one was written.
        package var wroteSnapshot: Bool

        /// What the log says of it, for `gateway`.
        package func metadata(gateway: GatewayID) -> Logger.Metadata {
            [
                "gateway.id": "\(gateway.hex)",
                "block.height": "\(audit.auditor.tip?.height ?? 0)",
                "snapshot.height": "\(snapshotHeight.map { "\($0)" } ?? "-")",
                "replayed.blocks": "\(replayedBlocks)",
            ]
        }
    }

    /// The key `gateway`'s accepted chain is audited under: the one of its first certificate.
    /// - Throws: `StoreDamage` when the store holds no certificate of it.
    package static func key(
        of gateway: GatewayID,
        storePath: String,
        _ db: any StoreConnection
    ) throws -> PublicIdentity {
        guard let key = try AuthorityStore.certificates(db, gateway: gateway).first?.certificate.gatewayKey else {
            throw StoreDamage("accepted blocks of gateway \(gateway.hex) but no certificate for it in \(storePath)")
        }
        return key
    }

    /// `gateway`'s auditor at its stored audit snapshot, checked against the signed header of
    /// the block it was taken after (`ChainAuditor.init(gatewayKey:resuming:after:)`), and
    /// that block's height; a fresh auditor and nil when the store has no snapshot of it.
    /// Costs the gateway's live state, never its history: start-up checks every gateway's
    /// snapshot with it.
    /// - Parameter key: the gateway's certified key.
    /// - Throws: `StoreDamage`, one line naming the store, the gateway and what disagrees.
    package static func resumed(
        gateway: GatewayID,
        key: PublicIdentity,
        storePath: String,
        _ db: any StoreConnection
    ) throws -> (auditor: ChainAuditor, snapshotHeight: UInt64?) {
        guard let row = try AuthorityStore.auditSnapshot(db, gateway: gateway) else {
            return (ChainAuditor(gatewayKey: key), nil)
        }
        func disagrees(_ what: String) -> StoreDamage {
            StoreDamage(
                "the audit snapshot of gateway \(gateway.hex) in \(storePath) (after block \(row.height)) disagrees with its accepted chain: \(what); the store was edited or damaged (docs/OPERATIONS.md, Troubleshooting)"
            )
        }
        let chain: ChainSnapshot
        do { chain = try AuditSnapshot.decode(row.bytes) } catch { throw disagrees("it does not decode: \(error)") }
        guard chain.tip.height == row.height else {
            throw disagrees("its row names block \(row.height), its bytes block \(chain.tip.height)")
        }
        guard let stored = try AuthorityStore.acceptedBlock(db, gateway: gateway, height: row.height) else {
            throw disagrees("block \(row.height) is not in the store")
        }
        let header: SignedBlockHeader
        do { header = try Block(wireBytes: stored.wireBytes).header } catch {
            throw disagrees("block \(row.height) does not decode: \(error)")
        }
        do { return (try ChainAuditor(gatewayKey: key, resuming: chain, after: header), row.height) } catch {
            throw disagrees(error.description)
        }
    }

    /// `gateway`'s audit as the store holds it: its audit snapshot (`resumed`), then every
    /// block accepted after it audited again (at most about `serve --snapshot-entries`
    /// entries); a gateway without a snapshot (a store written before them) has its whole
    /// chain audited again, once, and gets one.
    /// - Parameter key: the gateway's certified key.
    /// - Throws: `StoreDamage`, one line naming the store, the gateway and what disagrees.
    package static func restore(
        gateway: GatewayID,
        key: PublicIdentity,
        storePath: String,
        _ db: any StoreConnection
    ) throws -> Restored {
        let start = try resumed(gateway: gateway, key: key, storePath: storePath, db)
        var auditor = start.auditor
        let snapshotHeight = start.snapshotHeight
        var replayed = 0
        var entries: UInt64 = 0
        try AuthorityStore.forEachBlock(db, gateway: gateway, from: auditor.nextHeight) { height, block in
            guard height == auditor.nextHeight else {
                throw StoreDamage(
                    "gateway \(gateway.hex): stored block \(height) where block \(auditor.nextHeight) was expected in \(storePath)"
                )
            }
            do { try auditor.append(block) } catch {
                throw StoreDamage(
                    "gateway \(gateway.hex): stored block no longer verifies: \(error) (\(storePath) was edited or damaged)"
                )
            }
            replayed += 1
            entries += UInt64(block.entries.count)
        }
        var audit = GatewayAudit(auditor: auditor, entriesSinceSnapshot: entries)
        var wrote = false
        if snapshotHeight == nil, let chain = auditor.snapshot {
            try AuthorityStore.saveAuditSnapshot(
                AuditSnapshot.encoded(chain),
                gateway: gateway,
                height: chain.tip.height,
                db
            )
            audit.snapshotStored()
            wrote = true
        }
        return Restored(audit: audit, snapshotHeight: snapshotHeight, replayedBlocks: replayed, wroteSnapshot: wrote)
    }
}

import Foundation
import GRDB
import LedgerStore
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNodeCore

/// Start-up resumes each gateway's audit from its audit snapshot, not from its whole chain.
@Suite("Audit snapshot", .postgres)
struct AuditSnapshotTests {
    let gateway = TestKeys.key(0x21)

    /// A chain with every kind of entry a gateway's chain holds here: enrollments, the
    /// authority and policy records, readings, offers, requests with their dispatches, a
    /// pending request, an anomaly and a revocation; one block per four entries.
    func everyKindOfEntry(root: PublicIdentity, certificate: SignedGatewayCertificate) throws -> ChainMaker {
        var m = try ChainMaker.standard(gateway: gateway)
        try m.gatewayRecord(.authority(AuthorityRecord(rootKey: root, certificate: certificate, timestamp: m.time)))
        try m.policy(offerToleranceWh: 500)
        try m.gatewayRecord(
            .anomaly(
                try Anomaly(
                    kind: .sequenceGap,
                    subject: m.consumer.id,
                    evidenceHash: Hash256(bytes: Array(repeating: 7, count: 32))!,
                    timestamp: m.time,
                    detail: "reading 3 of the consumer is missing"
                )
            )
        )
        try m.more()
        let seq = (m.requestSeq[m.consumer.id] ?? 0) + 1
        m.requestSeq[m.consumer.id] = seq
        try m.add(
            m.consumer.signed(
                .request(try EnergyRequest(consumer: m.consumer.id, sequence: seq, energyWh: 90_000, timestamp: m.time))
            )
        )
        try m.gatewayRecord(
            .revocation(Revocation(meterKey: m.producers[1].publicIdentity, role: .producer, timestamp: m.time))
        )
        try m.flush()
        return m
    }

    /// One more block: a reading of the producer still enrolled.
    func extend(_ m: inout ChainMaker) throws {
        try m.reading(m.producers[0], exportWh: 7_000 + Int64(m.blocks.count))
        try m.flush()
    }

    /// The state a verifier reaches replaying every block from the first, as a snapshot.
    func replayed(_ blocks: [Block]) throws -> [UInt8] {
        let verified = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: blocks)
        return AuditSnapshot.encoded(
            ChainSnapshot(tip: try #require(verified.tip), tree: verified.tree, state: verified.state)
        )
    }

    func audited(_ h: NodeHarness) async throws -> [UInt8] {
        AuditSnapshot.encoded(try #require(try await h.node.auditedChain(of: gateway.id)))
    }

    func storedSnapshotHeight(_ h: NodeHarness) async throws -> UInt64? {
        try await h.node.store.read { db in try AuthorityStore.auditSnapshot(db, gateway: gateway.id)?.height }
    }

    @Test(arguments: StoreKind.allCases) func aRestoredAuditEqualsTheWholeChainReplayed(store: StoreKind) async throws {
        // Snapshots far apart: the one after block 0 only, the rest replayed at start-up.
        let h = try await NodeHarness.make(store: store, snapshotEntries: 1_000)
        let cert = try await h.certify(gateway)
        let chain = try everyKindOfEntry(root: h.rootKey, certificate: cert)
        #expect(chain.blocks.count >= 7)
        #expect(try await h.push(cert, chain.blocks).status == 200)
        #expect(try await storedSnapshotHeight(h) == 0)
        let full = try replayed(chain.blocks)
        #expect(try await audited(h) == full)

        let logs = LogCapture()
        let restarted = try await h.reopen(logger: logs.logger)
        #expect(try await audited(restarted) == full)
        let resumed = logs.all.first { $0.contains("audit resumed") } ?? ""
        #expect(resumed.contains("snapshot.height=0"), "\(logs.all)")
        #expect(resumed.contains("replayed.blocks=\(chain.blocks.count - 1)"), "\(logs.all)")

        // A snapshot after every block: start-up replays nothing, and reaches the same state.
        let every = try await restarted.reopen(snapshotEntries: 1)
        var more = chain
        try extend(&more)
        #expect(try await every.push(cert, [more.blocks.last!]).status == 200)
        #expect(try await storedSnapshotHeight(every) == more.blocks.last!.height)
        let logs2 = LogCapture()
        let again = try await every.reopen(logger: logs2.logger)
        #expect(try await audited(again) == (try replayed(more.blocks)))
        #expect(logs2.all.contains { $0.contains("audit resumed") && $0.contains("replayed.blocks=0") }, "\(logs2.all)")
        // And it audits on: the next block is accepted, a fork refused.
        try extend(&more)
        #expect(try await again.push(cert, [more.blocks.last!]).status == 200)
        #expect(try await again.push(cert, [chain.blocks[2]]).status == 200)
    }

    /// Edits of the stored snapshot, each refused at start-up with one line naming the
    /// store, the gateway and what disagrees.
    @Test(arguments: StoreKind.allCases) func anEditedSnapshotIsRefusedWithOneLine(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store, snapshotEntries: 1)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(try await h.push(cert, chain.blocks).status == 200)
        let tip = chain.blocks.last!.height
        let original = try #require(
            try await h.node.store.read { db in
                try AuthorityStore.auditSnapshot(db, gateway: gateway.id)
            }
        )
        let good = try AuditSnapshot.decode(original.bytes)
        let earlier = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: chain.blocks.prefix(2))

        var flippedHash = original.bytes
        flippedHash[2 + 8] ^= 1
        var flippedFrontier = original.bytes
        flippedFrontier[2 + 8 + 32 + 8 + 8] ^= 1
        let otherState = AuditSnapshot.encoded(ChainSnapshot(tip: good.tip, tree: good.tree, state: earlier.state))
        let edits: [(bytes: [UInt8], height: UInt64, says: String)] = [
            (flippedHash, tip, "tip hash"),
            (flippedFrontier, tip, "Merkle frontier"),
            (otherState, tip, "state digest"),
            (Array(original.bytes.dropLast(3)), tip, "does not decode"),
            (original.bytes, tip - 1, "its row names block \(tip - 1)"),
        ]
        for edit in edits {
            try await h.node.store.write { db in
                try AuthorityStore.saveAuditSnapshot(edit.bytes, gateway: gateway.id, height: edit.height, db)
            }
            do {
                _ = try await h.reopen()
                Issue.record("an audit snapshot edited (\(edit.says)) was taken")
            } catch let damage as StoreDamage {
                let line = damage.description
                #expect(!line.contains("\n"))
                #expect(line.contains(h.dir.storeLocation), "\(line)")
                #expect(line.contains("gateway \(gateway.id.hex)"), "\(line)")
                #expect(line.contains(edit.says), "\(line)")
            }
        }
        // Put back, it is taken again.
        try await h.node.store.write { db in
            try AuthorityStore.saveAuditSnapshot(original.bytes, gateway: gateway.id, height: original.height, db)
        }
        #expect(try await audited(try await h.reopen()) == (try replayed(chain.blocks)))
    }

    /// A store written before audit snapshots (the migration not applied): the first start-up
    /// replays each gateway's chain once and writes its snapshot; the next resumes from it.
    @Test func aStoreWithoutSnapshotsGetsThem() async throws {
        let h = try await NodeHarness.make()
        let cert = try await h.certify(gateway)
        var chain = try ChainMaker.standard(gateway: gateway)
        let first = try await h.push(cert, chain.blocks)
        #expect(first.status == 200)
        try await h.node.store.write { db in
            try db.execute("DROP TABLE audit_snapshot")
            try db.execute("DELETE FROM grdb_migrations WHERE identifier = 'authority-v6-audit-snapshot'")
        }

        let logs = LogCapture()
        let upgraded = try await h.reopen(logger: logs.logger)
        #expect(
            logs.all.contains { $0.contains("no audit snapshot") && $0.contains("replayed.blocks=4") },
            "\(logs.all)"
        )
        #expect(try await storedSnapshotHeight(upgraded) == 3)
        #expect(try await audited(upgraded) == (try replayed(chain.blocks)))

        let logs2 = LogCapture()
        let again = try await upgraded.reopen(logger: logs2.logger)
        try chain.more()
        let next = try await again.push(cert, [chain.blocks[4]])
        #expect(next.status == 200)
        // The push restored the audit from the snapshot the upgrade wrote.
        #expect(!logs2.all.contains { $0.contains("no audit snapshot") })
        #expect(
            logs2.all.contains {
                $0.contains("audit resumed") && $0.contains("snapshot.height=3") && $0.contains("replayed.blocks=0")
            },
            "\(logs2.all)"
        )
        // Checkpoints go on from the same log: a replay answers the very same checkpoint.
        let replay = try await again.push(cert, [chain.blocks[1]])
        #expect(replay.response.checkpoints.first?.checkpoint == first.response.checkpoints[1].checkpoint)
    }

    @Test func aSnapshotIsDueAfterTheFirstBlockThenEveryNEntriesButNotMoreOftenThanTheMeterCount() {
        #expect(ChainSnapshot.isDue(afterHeight: 0, entriesSince: 1, every: 100, meterCount: 0))
        #expect(!ChainSnapshot.isDue(afterHeight: 5, entriesSince: 99, every: 100, meterCount: 3))
        #expect(ChainSnapshot.isDue(afterHeight: 5, entriesSince: 100, every: 100, meterCount: 3))
        #expect(!ChainSnapshot.isDue(afterHeight: 5, entriesSince: 100, every: 100, meterCount: 500))
        #expect(ChainSnapshot.isDue(afterHeight: 5, entriesSince: 500, every: 1, meterCount: 500))
    }
}

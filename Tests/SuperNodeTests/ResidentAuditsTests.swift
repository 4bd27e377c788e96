import Foundation
import GRDB
import LedgerStore
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNodeCore

/// Gateways' audits are held in memory up to `serve --resident-audits` and restored from the
/// store on demand: start-up restores none, and an audit dropped for another is restored
/// when its gateway pushes again, to the very state it had.
@Suite("Resident audits", .postgres)
struct ResidentAuditsTests {
    let gatewayA = TestKeys.key(0x31)
    let gatewayB = TestKeys.key(0x32)

    /// The state a verifier reaches replaying every block from the first, as a snapshot.
    static func replayed(_ blocks: [Block], gateway: SigningIdentity) throws -> [UInt8] {
        let verified = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: blocks)
        return AuditSnapshot.encoded(
            ChainSnapshot(tip: try #require(verified.tip), tree: verified.tree, state: verified.state)
        )
    }

    static func audited(_ h: NodeHarness, _ gateway: SigningIdentity) async throws -> [UInt8]? {
        try await h.node.auditedChain(of: gateway.id).map(AuditSnapshot.encoded)
    }

    @Test func theLeastRecentlyUsedAuditIsDroppedWhenFull() {
        let audit = GatewayAudit(gatewayKey: gatewayA.publicIdentity)
        let (a, b, c) = (TestKeys.key(1).id, TestKeys.key(2).id, TestKeys.key(3).id)
        var resident = ResidentAudits(capacity: 2)
        resident.keep(audit, for: a)
        resident.keep(audit, for: b)
        #expect(resident.use(a) != nil)
        resident.keep(audit, for: c)
        #expect(resident.count == 2)
        #expect(resident.peek(b) == nil, "b was used least recently")
        #expect(resident.peek(a) != nil && resident.peek(c) != nil)
        // Replacing a held audit drops nothing.
        resident.keep(audit, for: c)
        #expect(resident.count == 2 && resident.peek(a) != nil)
        #expect(ResidentAudits(capacity: 0).capacity == 1)
    }

    @Test(arguments: StoreKind.allCases) func twoGatewaysPushingInTurnWithOneAuditHeldAreBothAuditedOn(
        store: StoreKind
    ) async throws {
        let logs = LogCapture()
        // Snapshots far apart: each restore audits again the blocks after block 0.
        let h = try await NodeHarness.make(store: store, snapshotEntries: 1_000, residentAudits: 1, logger: logs.logger)
        let certA = try await h.certify(gatewayA, name: "a")
        let certB = try await h.certify(gatewayB, name: "b")
        var chainA = try ChainMaker.standard(gateway: gatewayA)
        var chainB = try ChainMaker.standard(gateway: gatewayB)
        try chainA.more()
        try chainB.more()
        #expect(chainA.blocks.count == 5 && chainB.blocks.count == 5)
        for height in 0..<5 {
            #expect(try await h.push(certA, [chainA.blocks[height]]).status == 200)
            #expect(try await h.push(certB, [chainB.blocks[height]]).status == 200)
            #expect(h.node.residentAuditCount == 1)
        }
        // Each gateway's audit was dropped for the other's and restored at its next push.
        let restores = logs.all.filter { $0.contains("audit resumed") }
        #expect(restores.count >= 7, "\(logs.all)")
        #expect(restores.contains { $0.contains("gateway.id=\(gatewayA.id.hex)") && $0.contains("replayed.blocks=3") })
        #expect(try await Self.audited(h, gatewayA) == (try Self.replayed(chainA.blocks, gateway: gatewayA)))
        #expect(try await Self.audited(h, gatewayB) == (try Self.replayed(chainB.blocks, gateway: gatewayB)))
        // A fork of a dropped gateway's chain is still refused, a replay still answered.
        #expect(try await h.push(certB, [chainB.blocks[4]]).status == 200)
        try chainA.more()
        #expect(try await h.push(certA, [chainA.blocks[5]]).status == 200)
        let tips = try await h.node.auditedTips()
        #expect(tips[gatewayA.id]?.height == 5 && tips[gatewayB.id]?.height == 4)
        #expect(tips[gatewayA.id]?.hash == chainA.blocks[5].hash)
        #expect(tips[gatewayA.id]?.treeSize == chainA.blocks[5].header.header.treeSize)
    }

    @Test(arguments: StoreKind.allCases) func startUpHoldsNoAuditAndAQuestionRestoresOne(store: StoreKind) async throws
    {
        let h = try await NodeHarness.make(store: store, residentAudits: 4)
        let cert = try await h.certify(gatewayA)
        let chain = try ChainMaker.standard(gateway: gatewayA)
        #expect(try await h.push(cert, chain.blocks).status == 200)
        #expect(h.node.residentAuditCount == 1)

        let restarted = try await h.reopen()
        #expect(restarted.node.residentAuditCount == 0)
        #expect(try await restarted.node.auditedTips()[gatewayA.id]?.height == 3, "tips come from the store")
        #expect(restarted.node.residentAuditCount == 0)
        // An escalation's consumer check needs the audited chain: it is restored and held.
        let problem = try await restarted.node.consumerProblem(
            chain.consumer.id,
            key: chain.consumer.publicIdentity,
            gateway: gatewayA.id
        )
        #expect(problem == nil)
        #expect(restarted.node.residentAuditCount == 1)
        #expect(try await Self.audited(restarted, gatewayA) == (try Self.replayed(chain.blocks, gateway: gatewayA)))
        // A gateway that never pushed has no audit, and none is held for it.
        #expect(try await restarted.node.auditedChain(of: gatewayB.id) == nil)
        #expect(restarted.node.residentAuditCount == 1)
    }

    /// A block after the snapshot damaged in the store: start-up (which checks only the
    /// snapshot) opens, the gateway's next push fails with one error line naming the store
    /// and the gateway, nothing is accepted, and other gateways are not affected.
    @Test(arguments: StoreKind.allCases) func aDamagedBlockAfterTheSnapshotRefusesThatGatewaysPushes(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store, snapshotEntries: 1_000)
        let certA = try await h.certify(gatewayA, name: "a")
        let certB = try await h.certify(gatewayB, name: "b")
        var chainA = try ChainMaker.standard(gateway: gatewayA)
        let chainB = try ChainMaker.standard(gateway: gatewayB)
        #expect(try await h.push(certA, chainA.blocks).status == 200)
        #expect(try await h.push(certB, Array(chainB.blocks.prefix(2))).status == 200)
        let block3 = Data(chainA.blocks[3].wireBytes())
        try await h.node.store.write { db in
            try db.execute(
                "UPDATE gateway_block SET block = ? WHERE gateway = ? AND height = 2",
                [.blob(block3), .blob(gatewayA.id.bytes)]
            )
        }
        let logs = LogCapture()
        let restarted = try await h.reopen(logger: logs.logger)
        try chainA.more()
        let (status, _) = try await restarted.pushAnswer(
            rawCertificate: Data(certA.bytes).base64EncodedString(),
            blocks: [Data(chainA.blocks[4].wireBytes()).base64EncodedString()]
        )
        #expect(status == 500)
        let line = try #require(logs.all.first { $0.contains("audit cannot be restored") }, "\(logs.all)")
        #expect(line.contains(gatewayA.id.hex) && line.contains(h.dir.storeLocation), "\(line)")
        #expect(try await restarted.node.auditedTips()[gatewayA.id]?.height == 3, "nothing accepted")
        #expect(try await restarted.push(certB, [chainB.blocks[2]]).status == 200)
        // The full check (`super-node verify`) finds it too.
        await #expect(throws: StoreDamage.self) { try await AuditSnapshotCheck.checkAll(restarted.node.store) }
    }
}

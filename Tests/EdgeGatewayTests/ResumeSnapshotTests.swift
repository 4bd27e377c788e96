import Foundation
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

/// Start-up from the resume snapshot stored with the blocks (issue 14, point 1).
@Suite("Resume snapshot")
struct ResumeSnapshotTests {
    /// A chain with enrollments, a revocation, readings, offers, requests and dispatches,
    /// written without snapshots (as an earlier version did), then served: readings with a
    /// sequence gap, a tamper flag and an equivocation add anomalies.
    static func tradedChain() throws -> (chain: TradeChain, producers: [SigningIdentity], consumers: [SigningIdentity])
    {
        var c = try TradeChain()
        let producers = (0..<3).map { TestKeys.key(0x70 + UInt8($0)) }
        let consumers = (0..<2).map { TestKeys.key(0x50 + UInt8($0)) }
        for p in producers { try c.enroll(p, .producer) }
        for q in consumers { try c.enroll(q, .consumer) }
        try c.policy(.lowestTNT, toleranceWh: 10_000)
        for p in producers { try c.reading(p, exportWh: 5_000) }
        try c.offer(producers[0], 1_000)
        try c.offer(producers[1], 2_000)
        try c.seal()
        try c.trade(consumers[0], 300)
        try c.trade(consumers[1], 500)
        try c.request(consumers[0], 100)  // pending: no dispatch
        try c.revoke(producers[2], .producer)
        try c.seal()
        return (c, producers, consumers)
    }

    /// Restored from its snapshot and moved to the tip, the state equals the one replayed
    /// from the whole chain by the verifier (chain and TNT state, frontier, meters, anomaly
    /// memory, last trades, escalations).
    static func expectSnapshotMatchesReplay(_ dir: DataDirectory, at height: UInt64? = nil) throws {
        let store = try ChainStore(path: dir.chainPath, check: .none)
        let gatewayKey = try dir.loadPublicKey()
        let verified = try ChainVerifier(gatewayKey: gatewayKey).verify(store)
        let check = try ChainWriter.checkResumeSnapshot(store: store, verified: verified)
        if let height {
            #expect(check == .matches(height: height))
        } else {
            guard case .matches = check else {
                Issue.record("the snapshot does not match: \(check)")
                return
            }
        }
    }

    @Test func aRestoredSnapshotEqualsTheStateReplayedFromTheWholeChain() async throws {
        let (chain, producers, consumers) = try Self.tradedChain()
        // Written without a snapshot: the first start-up verifies in full and writes one.
        var h = try await chain.open()
        #expect(h.logs.all.contains { $0.contains("no resume snapshot") })
        #expect(try h.gateway.writer.store.resumeSnapshot()?.height == 1)
        let house = consumers[0]
        _ = try await h.post([try h.reading(house, 1), try h.reading(house, 2, voltage: 2700)])
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(house, 4)])  // gap: an anomaly
        _ = try await h.post([try h.reading(house, 3, status: .tamper), try h.reading(house, 4)])
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(house, 4, powerW: 501)])  // equivocation
        await h.gateway.writer.sealNow()
        #expect(try h.gateway.writer.store.anomalies().count >= 2)
        let live = await h.gateway.writer.meterList().map { "\($0.0.hex) \($0.1.active) \($0.2)" }
        h.close()
        // The snapshot is still the one after block 1; start-up replays the blocks after it.
        try Self.expectSnapshotMatchesReplay(h.dir, at: 1)

        var config = ChainWriterConfig()
        config.snapshotEntries = 1
        h = try await h.reopen(config: config)
        #expect(!h.logs.all.contains { $0.contains("no resume snapshot") })
        #expect(await h.gateway.writer.meterList().map { "\($0.0.hex) \($0.1.active) \($0.2)" } == live)
        #expect(await h.gateway.writer.meters[producers[2].id]?.active == false)
        #expect(await h.gateway.writer.lastTrades.count == 4)
        #expect(await h.gateway.writer.detector.gapReported[house.id] != nil)
        #expect(await h.gateway.writer.detector.equivocations.count == 1)
        _ = try await h.post([try h.reading(house, 5)])
        await h.gateway.writer.sealNow()
        let tip = try #require(try h.gateway.writer.store.tip())
        h.close()
        // Now every block carries one: the latest is the tip's.
        try Self.expectSnapshotMatchesReplay(h.dir, at: tip.height)
        #expect(try VerifyCommand.check(h.dir).resumeSnapshot == "block \(tip.height)")
    }

    @Test func escalationsAndTheAuthorityRecordAreResumed() async throws {
        let h = try await EscalationAPITests.harness()
        let producer = SigningIdentity()
        try await h.enroll(producer, role: .producer)
        var trader = TradingAPITests.Trader(h: h)
        #expect(try await trader.offer(producer, 5000).status == .accepted)
        let request = try EnergyRequest(
            consumer: SigningIdentity().id,
            sequence: 3,
            energyWh: 1200,
            timestamp: h.clock.now
        )
        let decision = try EscalationAPITests.decision(
            producer: producer.id,
            producerGateway: try h.dir.loadKey().id,
            request: request
        )
        let committed = try await EscalationAPITests().commit(h, decision, status: .ok)
        #expect(committed.status == "committed")
        await h.gateway.writer.sealNow()
        h.close()
        // The escalation is in a block after the snapshot: replayed at start-up.
        try Self.expectSnapshotMatchesReplay(h.dir)

        // A snapshot taken after it holds it.
        var config = TradingAPITests.generous
        config.snapshotEntries = 1
        let again = try await h.reopen(config: config)
        #expect(await again.gateway.writer.escalations[decision.decision.decisionID] != nil)
        var later = TradingAPITests.Trader(h: again, sequences: trader.sequences)
        #expect(try await later.offer(producer, 100).status == .accepted)
        await again.gateway.writer.sealNow()
        let tip = try #require(try again.gateway.writer.store.tip())
        again.close()
        try Self.expectSnapshotMatchesReplay(h.dir, at: tip.height)
        let third = try await h.reopen(config: config)
        #expect(await third.gateway.writer.escalations[decision.decision.decisionID] != nil)
        #expect(await third.gateway.writer.builder.state.authority != nil)
        third.close()
    }

    /// A block that cannot be stored takes its snapshot with it (one transaction); the writer
    /// resumes from the snapshot still stored, not from a full verification.
    @Test func aFailedAppendKeepsTheSnapshotOfTheLastStoredBlock() async throws {
        var config = ChainWriterConfig(sealSize: 5)
        config.snapshotEntries = 1
        let h = try await Harness.make(config: config)
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let store = h.gateway.writer.store
        #expect(try store.resumeSnapshot()?.height == 0)
        try store.executeRawSQLForTesting(
            "CREATE TRIGGER broken_disk BEFORE INSERT ON block BEGIN SELECT RAISE(FAIL, 'disk error (test)'); END"
        )
        let first = try await h.post(try (1...7).map { try h.reading(meter, UInt64($0)) })
        #expect(first.allSatisfy { $0.status == .accepted })
        await h.gateway.writer.waitUntilStored()
        #expect(h.gateway.writer.archiver.failure != nil)
        #expect(try store.resumeSnapshot()?.height == 0)

        try store.executeRawSQLForTesting("DROP TRIGGER broken_disk")
        h.clock.advance(ms: ChainWriter.resumeIntervalMs)
        await h.gateway.writer.sealNow()
        #expect(h.gateway.writer.archiver.failure == nil)
        #expect(!h.logs.all.contains { $0.contains("no resume snapshot") })
        let tip = try #require(try store.tip())
        #expect(tip.treeSize == 8)
        #expect(try store.resumeSnapshot()?.height == tip.height)
        try Self.expectSnapshotMatchesReplay(h.dir, at: tip.height)
    }

    @Test func theComparisonNamesWhatDiffers() throws {
        let (chain, _, _) = try Self.tradedChain()
        let verified = try ChainVerifier(gatewayKey: chain.builder.gateway.publicIdentity).verify(chain.store)
        let memory = try ChainWriter.rebuildMemory(store: chain.store, state: verified.state)
        let full = ResumeSnapshot(
            chain: ChainSnapshot(tip: verified.tip!, tree: verified.tree, state: verified.state),
            memory: memory
        )
        let decoded = try ResumeSnapshot(bytes: full.encoded())
        #expect(decoded.difference(from: full) == nil)
        #expect(decoded.chain.tree.root == verified.tree.root)
        #expect(decoded.chain.state.tnt.digest() == verified.state.tnt.digest())
        var (restoredState, replayedState) = (decoded.chain.state, verified.state)
        for version in BlockHeader.versions {
            #expect(
                restoredState.stateDigest(forHeaderVersion: version)
                    == replayedState.stateDigest(forHeaderVersion: version)
            )
        }
        // The producer index is rebuilt, not stored: the rule decides as on the replayed state.
        for energy: UInt64 in [1, 100, 500, 1_000, 1_500, 2_500, 100_000] {
            #expect(decoded.chain.state.tnt.decide(energyWh: energy) == verified.state.tnt.decide(energyWh: energy))
            #expect(
                decoded.chain.state.tnt.decide(energyWh: energy, policy: .splitTNT)
                    == verified.state.tnt.decide(energyWh: energy, policy: .splitTNT)
            )
        }
        #expect(decoded.chain.state.tnt.largestAvailableWh == verified.state.tnt.largestAvailableWh)
        #expect(decoded.memory.lastTrades.count == 2 + 2)

        var lost = decoded
        lost.memory.lastTrades.removeAll()
        #expect(lost.difference(from: full) == "last offers and requests")
        var revoked = decoded
        revoked.memory.meters[TestKeys.key(0x50).id]?.active = false
        #expect(revoked.difference(from: full) == "meters")
        // Bytes cut anywhere do not decode.
        let bytes = full.encoded()
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 50)) {
            #expect(throws: RecordDecodingError.self) { try ResumeSnapshot(bytes: Array(bytes[..<cut])) }
        }
    }

    @Test func aSnapshotThatDisagreesWithTheTipIsRefusedNamingTheStore() async throws {
        var config = ChainWriterConfig()
        config.snapshotEntries = 1
        let h = try await Harness.make(config: config)
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post([try h.reading(meter, 1)])
        await h.gateway.writer.sealNow()
        h.close()
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        let row = try #require(try store.resumeSnapshot())
        #expect(row.height == 1)
        // One byte of the frontier (after type, version, height, hash, tree size, timestamp).
        var bytes = row.bytes
        bytes[60] ^= 0x5A
        try store.executeRawSQLForTesting("UPDATE resume_snapshot SET bytes = X'\(encodeHex(bytes))'")
        do {
            _ = try await h.reopen(config: config)
            Issue.record("expected the gateway to refuse a snapshot that disagrees with its tip")
        } catch {
            let text = "\(error)"
            #expect(text.contains(h.dir.chainPath))
            #expect(text.contains("Merkle frontier"))
            #expect(!text.contains("\n"))
        }
        // A snapshot of another block than its row names is refused too.
        try store.executeRawSQLForTesting("UPDATE resume_snapshot SET height = 0")
        do {
            _ = try await h.reopen(config: config)
            Issue.record("expected the gateway to refuse a snapshot row that names another block")
        } catch {
            #expect("\(error)".contains("row names block 0"))
        }
        // `verify` names it.
        let summary = try VerifyCommand.check(h.dir)
        #expect(!summary.ok)
        #expect(summary.failure?.problem.contains("resume snapshot") == true)
    }

    @Test func aStoreWithoutSnapshotIsVerifiedOnceAndGetsOne() async throws {
        let h = try await Harness.make()
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post([try h.reading(meter, 1)])
        await h.gateway.writer.sealNow()
        h.close()
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        try store.executeRawSQLForTesting("DELETE FROM resume_snapshot")
        #expect(try VerifyCommand.check(h.dir).resumeSnapshot == "none")
        let again = try await h.reopen()
        #expect(again.logs.all.contains { $0.contains("no resume snapshot") })
        #expect(try store.resumeSnapshot()?.height == 1)
        #expect(await again.gateway.writer.meter(meter.id)?.1 == 1)
        again.close()
        let third = try await h.reopen()
        #expect(!third.logs.all.contains { $0.contains("no resume snapshot") })
        third.close()
        try Self.expectSnapshotMatchesReplay(h.dir, at: 1)
    }

    @Test func aTreeRestoredFromItsFrontierGrowsAsTheWholeTree() throws {
        var whole = MerkleTree(retainingLeaves: false)
        for size in 0..<2_600 {
            if size % 97 == 0 || (1_020...1_030).contains(size) {
                var restored = try MerkleTree(frontier: whole.frontier, size: whole.size)
                #expect(restored.root == whole.root)
                var copy = whole
                for i in 0..<40 {
                    let leaf = Merkle.leafHash(Array("x\(size)-\(i)".utf8))
                    restored.append(leafHash: leaf)
                    copy.append(leafHash: leaf)
                    #expect(restored.root == copy.root)
                }
            }
            whole.append(leafHash: Merkle.leafHash(Array("leaf \(size)".utf8)))
        }
        #expect(throws: MerkleError.self) { try MerkleTree(frontier: [], size: 3) }
    }
}

import Foundation
import GridAPI
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore
@testable import SuperNode
@testable import SuperNodeCore

@Suite("Super node: block intake and audit", .postgres)
struct IntakeTests {
    let gateway = TestKeys.key(0x99)

    @Test(arguments: StoreKind.allCases) func certifiedChainIsCheckpointedAndCheckpointsVerify(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway, name: "feeder-7")
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(chain.blocks.count == 4)
        #expect(chain.blocks.flatMap(\.entries).contains { $0.record.type == .dispatch })
        #expect(chain.blocks.flatMap(\.entries).contains { $0.record.type == .offer })
        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 200)
        #expect(pushed.response.rejected == nil)
        #expect(pushed.response.checkpoints.count == 4)
        for (block, view) in zip(chain.blocks, pushed.response.checkpoints) {
            let signed = try view.verified(by: h.rootKey)
            #expect(signed.checkpoint.blockHash == block.hash)
            #expect(signed.checkpoint.merkleRoot == block.header.header.merkleRoot)
            #expect(signed.checkpoint.certificateSerial == cert.certificate.serial)
            #expect(signed.checkpoint.checkpointedAt == h.clock.now)
            #expect(view.replayed == false)
        }
        // GET /v1/checkpoints/{gateway}/{height}: the same signed bytes.
        let got = try await h.get("/v1/checkpoints/\(gateway.id.hex)/2", as: CheckpointView.self)
        #expect(got.checkpoint == pushed.response.checkpoints[2].checkpoint)
        let missing = try await h.get("/v1/checkpoints/\(gateway.id.hex)/9", as: RejectionView.self, status: 404)
        #expect(missing.reason == "not-found")
        // GET /v1/gateways: certified, not revoked, audited to height 3.
        let list = try await h.get("/v1/gateways", as: GatewayListView.self)
        #expect(list.gateways.count == 1)
        #expect(list.gateways[0].gateway == gateway.id.hex)
        #expect(list.gateways[0].name == "feeder-7")
        #expect(list.gateways[0].revoked == false)
        #expect(list.gateways[0].auditedHeight == 3)
        #expect(list.gateways[0].auditedTreeSize == 15)
        let root = try await h.get("/v1/root", as: RootView.self)
        #expect(try KeyFile.parsePublicKeyLine(root.publicKey).identity == h.rootKey)
    }

    @Test(arguments: StoreKind.allCases) func replayedBlockGetsTheSameCheckpoint(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let first = try await h.push(cert, Array(chain.blocks[0..<2]))
        #expect(first.status == 200)
        h.clock.advance(ms: 60_000)
        // Blocks 0–1 again plus block 2: old checkpoints returned unchanged, block 2 new.
        let again = try await h.push(cert, Array(chain.blocks[0..<3]))
        #expect(again.status == 200)
        #expect(again.response.checkpoints.map(\.replayed) == [true, true, false])
        #expect(again.response.checkpoints[0].checkpoint == first.response.checkpoints[0].checkpoint)
        #expect(again.response.checkpoints[1].checkpoint == first.response.checkpoints[1].checkpoint)
        #expect(again.response.checkpoints[2].checkpointedAt == h.clock.now)
    }

    /// The block hash covers the header only: an accepted block's header with an altered
    /// entry is another block (`fork`), not a replay answered with the checkpoint.
    @Test(arguments: StoreKind.allCases) func tamperedCopyOfAnAcceptedBlockIsAFork(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(try await h.push(cert, Array(chain.blocks[0..<2])).status == 200)
        var tampered = chain.blocks[1].wireBytes()
        tampered[tampered.count - 1] ^= 0x01  // an entry's signature; the header is intact
        let pushed = try await h.push(
            rawCertificate: Data(cert.bytes).base64EncodedString(),
            blocks: [Data(tampered).base64EncodedString()]
        )
        #expect(pushed.status == 409)
        #expect(pushed.reasons == "fork")
        #expect(pushed.response.checkpoints.isEmpty)
        #expect(pushed.response.rejected?.height == 1)
        #expect(pushed.response.rejected?.message.contains("other entries") == true)
        // The real block is still a replay, and the audit goes on.
        let again = try await h.push(cert, Array(chain.blocks[1..<3]))
        #expect(again.status == 200)
        #expect(again.response.checkpoints.map(\.replayed) == [true, false])
    }

    @Test(arguments: StoreKind.allCases) func tamperedBlockIsRejectedWithTheReason(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(try await h.push(cert, [chain.blocks[0]]).status == 200)
        let good = chain.blocks[1].wireBytes()
        func push(_ bytes: [UInt8]) async throws -> NodeHarness.Pushed {
            try await h.push(
                rawCertificate: Data(cert.bytes).base64EncodedString(),
                blocks: [Data(bytes).base64EncodedString()]
            )
        }
        // One byte of an entry's signature (the last byte of the block).
        var entryByte = good
        entryByte[entryByte.count - 1] ^= 0x01
        let a = try await push(entryByte)
        #expect(a.status == 422)
        #expect(a.reasons == "bad-entry-signature")
        #expect(a.response.rejected?.height == 1)
        #expect(a.response.rejected?.index == 0)
        #expect(a.response.rejected?.message.contains("does not verify") == true)
        // One byte of the header's Merkle root (offset 2 + 58).
        var headerByte = good
        headerByte[2 + 58] ^= 0x01
        let b = try await push(headerByte)
        #expect(b.status == 422)
        #expect(b.reasons == "bad-block-signature")
        // One byte of a reading value inside an entry's body: the entry's signature breaks.
        let lastEntry = try #require(chain.blocks[1].entries.last)
        var bodyByte = good
        bodyByte[good.count - 64 - 1] ^= 0x01
        let c = try await push(bodyByte)
        #expect(c.status == 422, "\(lastEntry.record.type)")
        #expect(c.reasons == "bad-entry-signature")
        // Not a block at all.
        let d = try await push([0x11, 0x01, 0x00])
        #expect(d.status == 400)
        #expect(d.reasons == "malformed-block")
        // The untampered block still goes in.
        #expect(try await push(good).status == 200)
    }

    /// A version 2 header committing to another TNT state than the chain's entries give, signed
    /// by the gateway's own key (a gateway lying about its state), is refused by the audit.
    @Test(arguments: StoreKind.allCases) func aVersion2HeaderWithAnotherStateDigestIsRejected(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(chain.blocks.allSatisfy { $0.header.header.version == 2 })
        #expect(try await h.push(cert, [chain.blocks[0]]).status == 200)
        var header = chain.blocks[1].header.header
        header.stateDigest = Hash256.sha256([0x20, 0x03])
        let lying = Block(header: try SignedBlockHeader.sign(header, with: gateway), entries: chain.blocks[1].entries)
        let pushed = try await h.push(cert, [lying])
        #expect(pushed.status == 422)
        #expect(pushed.reasons == "state-digest-mismatch")
        #expect(pushed.response.rejected?.height == 1)
        #expect(try await h.push(cert, Array(chain.blocks[1...])).status == 200)
    }

    /// A chain of version 1 headers (sealed before version 2) is audited under its version,
    /// and its gateway continues it with version 2 headers after an upgrade.
    @Test(arguments: StoreKind.allCases) func aChainOfVersion1HeadersIsAuditedAndContinuesWithVersion2(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = ChainMaker(gateway: gateway)
        chain.builder.sealsLegacyHeaders = true
        try chain.gatewayRecord(
            .enrollment(Enrollment(meterKey: chain.consumer.publicIdentity, role: .consumer, timestamp: chain.time))
        )
        for p in chain.producers {
            try chain.gatewayRecord(
                .enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: chain.time))
            )
        }
        for p in chain.producers { try chain.reading(p, exportWh: 1000) }
        try chain.flush()
        let legacy = chain.blocks.count
        #expect(chain.blocks.allSatisfy { $0.header.header.version == 1 })
        chain.builder.sealsLegacyHeaders = false
        for p in chain.producers { try chain.reading(p, exportWh: 3000) }
        try chain.offer(chain.producers[0], 2000)
        try chain.request(1500)
        try chain.flush()
        #expect(chain.blocks[legacy...].allSatisfy { $0.header.header.version == 2 })
        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 200)
        #expect(pushed.response.checkpoints.count == chain.blocks.count)
    }

    @Test(arguments: StoreKind.allCases) func gapForkAndBrokenLinkAreRejected(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let gap = try await h.push(cert, [chain.blocks[0], chain.blocks[2]])
        #expect(gap.status == 409)
        #expect(gap.reasons == "gap")
        #expect(gap.response.checkpoints.count == 1)  // block 0 was accepted before the gap
        #expect(gap.response.rejected?.index == 1)
        #expect(gap.response.rejected?.message.contains("must have height 1") == true)
        #expect(gap.response.rejected?.expectedHeight == 1)
        // Another block 0 (another chain by the same key): a fork.
        var other = ChainMaker(gateway: gateway)
        try other.gatewayRecord(
            .enrollment(Enrollment(meterKey: other.producers[0].publicIdentity, role: .producer, timestamp: other.time))
        )
        try other.flush()
        let fork = try await h.push(cert, [other.blocks[0]])
        #expect(fork.status == 409)
        #expect(fork.reasons == "fork")
        // The other chain's next block at height 1 does not link to our block 0.
        try other.gatewayRecord(
            .enrollment(Enrollment(meterKey: other.consumer.publicIdentity, role: .consumer, timestamp: other.time))
        )
        try other.flush()
        let link = try await h.push(cert, [other.blocks[1]])
        #expect(link.status == 409)
        #expect(link.reasons == "broken-link")
        // The audit was not disturbed: the real block 1 is accepted.
        #expect(try await h.push(cert, [chain.blocks[1]]).status == 200)
    }

    /// A validly signed block dated in the future: once accepted, every later block of the
    /// gateway would start before its end (`timestamps-out-of-order`) and its chain would stop
    /// at the super node for good. It is refused as `future-timestamp`, nothing of it is
    /// stored, and the gateway's genuine next block is taken.
    /// Each case: the block's start (nil: the genuine one) and end, against the harness's clock
    /// (1_767_300_000_000): the end of `Int64`, and a millisecond beyond the 5-minute window.
    static let futureTimes: [(start: Int64?, end: Int64)] = [
        (nil, .max), (.max, .max), (nil, 1_767_300_000_000 + 300_001),
    ]

    @Test(arguments: futureTimes)
    func aBlockEndingInTheFutureIsRefusedAndTheGenuineNextBlockIsTaken(start: Int64?, end: Int64) async throws {
        let h = try await NodeHarness.make()
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        #expect(try await h.push(cert, [chain.blocks[0]]).status == 200)
        var header = chain.blocks[1].header.header
        header.firstTimestamp = start ?? header.firstTimestamp
        header.lastTimestamp = end
        let future = Block(header: try SignedBlockHeader.sign(header, with: gateway), entries: chain.blocks[1].entries)
        let refused = try await h.push(cert, [future])
        #expect(refused.status == 422)
        #expect(refused.reasons == "future-timestamp")
        #expect(refused.response.rejected?.height == 1)
        #expect(refused.response.rejected?.message.contains("after the super node's clock") == true)
        #expect(refused.response.checkpoints.isEmpty)
        // Nothing of it stayed: the audit is at block 0, in memory and in the store.
        #expect(try await h.node.auditedTips()[gateway.id]?.height == 0)
        #expect(try await h.node.checkpoint(gateway: gateway.id, height: 1) == nil)
        #expect(try await h.reopen().node.auditedTips()[gateway.id]?.height == 0)
        // The genuine block 1 is taken, and the rest of the chain after it.
        let genuine = try await h.push(cert, Array(chain.blocks[1...]))
        #expect(genuine.status == 200)
        #expect(genuine.response.rejected == nil)
        #expect(genuine.response.checkpoints.map(\.replayed) == [false, false, false])
    }

    /// The window is the request stamps' (5 minutes): a block ending at its edge is taken, one
    /// ending a second beyond it is refused, and taken once the super node's clock moved on.
    @Test(arguments: StoreKind.allCases) func aBlockIsTakenUpToTheClockWindowAheadAndBeyondItOnceTheClockGetsThere(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = ChainMaker(gateway: gateway)
        chain.time = h.clock.now + RequestAuthenticator.standardWindow - 1000
        try chain.gatewayRecord(
            .enrollment(Enrollment(meterKey: chain.consumer.publicIdentity, role: .consumer, timestamp: chain.time))
        )
        try chain.flush()
        try chain.gatewayRecord(
            .enrollment(Enrollment(meterKey: chain.producers[0].publicIdentity, role: .producer, timestamp: chain.time))
        )
        try chain.flush()
        #expect(chain.blocks[0].header.header.lastTimestamp == h.clock.now + RequestAuthenticator.standardWindow)
        #expect(try await h.push(cert, [chain.blocks[0]]).status == 200)
        let early = try await h.push(cert, [chain.blocks[1]])
        #expect(early.reasons == "future-timestamp")
        h.clock.advance(ms: 2000)
        let later = try await h.push(cert, [chain.blocks[1]])
        #expect(later.status == 200)
        #expect(later.response.checkpoints.map(\.height) == [1])
    }

    @Test(arguments: StoreKind.allCases) func wrongKeyMissingUnknownAndRevokedCertificatesAreRejected(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)

        // No certificate (signed by the certified key, so the push is read).
        let none = try await h.push(nil, [chain.blocks[0]], signing: .by(gateway))
        #expect(none.status == 401)
        #expect(none.reasons == "missing-certificate")

        // Blocks signed by another key, pushed with this gateway's certificate.
        let intruder = TestKeys.key(0x98)
        let foreign = try ChainMaker.standard(gateway: intruder)
        let wrong = try await h.push(cert, [foreign.blocks[0]])
        #expect(wrong.status == 403)
        #expect(wrong.reasons == "wrong-gateway")

        // A header naming our gateway but signed by the intruder's key.
        let forgedHeader = try SignedBlockHeader.sign(chain.blocks[0].header.header, with: intruder)
        let forged = Block(header: forgedHeader, entries: chain.blocks[0].entries)
        let badSig = try await h.push(cert, [forged])
        #expect(badSig.status == 422)
        #expect(badSig.reasons == "bad-block-signature")

        // A certificate signed by another root.
        let otherRoot = TestKeys.key(0xab)
        let foreignCert = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: otherRoot.id,
                gatewayKey: gateway.publicIdentity,
                serial: 1,
                issuedAt: 0,
                name: "gw"
            ),
            with: otherRoot
        )
        let untrusted = try await h.push(foreignCert, [chain.blocks[0]])
        #expect(untrusted.status == 403)
        #expect(untrusted.reasons == "untrusted-certificate")

        // A certificate our root signed that is not in the register (e.g. a lost database).
        let unregistered = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: h.node.root.id,
                gatewayKey: gateway.publicIdentity,
                serial: 77,
                issuedAt: 0,
                name: "gw"
            ),
            with: h.node.root
        )
        #expect(try await h.push(unregistered, [chain.blocks[0]]).reasons == "unknown-certificate")

        // Garbage certificate.
        let garbage = try await h.push(
            rawCertificate: "AAAA",
            blocks: [Data(chain.blocks[0].wireBytes()).base64EncodedString()],
            signing: .by(gateway)
        )
        #expect(garbage.status == 400)
        #expect(garbage.reasons == "malformed-certificate")

        // Accepted while certified; refused once revoked, even a replay.
        #expect(try await h.push(cert, [chain.blocks[0]]).status == 200)
        let revoked = try await Authority.revoke(store: h.node.store, .gateway(gateway.id), now: h.clock.now)
        #expect(revoked.map(\.certificate.serial) == [cert.certificate.serial])
        let refused = try await h.push(cert, [chain.blocks[1]])
        #expect(refused.status == 403)
        #expect(refused.reasons == "revoked-certificate")
        #expect(refused.response.rejected?.message.contains("revoked at") == true)
        #expect(try await h.push(cert, [chain.blocks[0]]).reasons == "revoked-certificate")
        let list = try await h.get("/v1/gateways", as: GatewayListView.self)
        #expect(list.gateways.first?.revoked == true)
        #expect(list.gateways.first?.auditedHeight == 0)

        // Malformed request bodies.
        let empty = try await h.push(cert, [])
        #expect(empty.status == 400)
        #expect(empty.reasons == "malformed-request")
    }

    @Test(arguments: StoreKind.allCases) func restartResumesTheAudit(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = try ChainMaker.standard(gateway: gateway)
        let first = try await h.push(cert, chain.blocks)
        #expect(first.status == 200)
        try chain.more()
        #expect(chain.blocks.count == 5)

        let restarted = try await h.reopen()
        #expect(try await restarted.node.auditedTips()[gateway.id]?.height == 3)
        // The next block is audited against the replayed state and accepted.
        let next = try await restarted.push(cert, [chain.blocks[4]])
        #expect(next.status == 200)
        #expect(next.response.checkpoints.first?.height == 4)
        // An earlier block replayed after the restart: the very same checkpoint.
        let replay = try await restarted.push(cert, [chain.blocks[1]])
        #expect(replay.status == 200)
        #expect(replay.response.checkpoints.first?.replayed == true)
        #expect(replay.response.checkpoints.first?.checkpoint == first.response.checkpoints[1].checkpoint)
        // A gap is still a gap.
        var later = chain
        try later.more()
        try later.more()
        #expect(try await restarted.push(cert, [later.blocks[6]]).reasons == "gap")
    }

    @Test(arguments: StoreKind.allCases) func announcedGatewayURLIsKeptAcrossRestartsAndABadOneIsRefused(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let certificate = Data(cert.bytes).base64EncodedString()
        let blocks = chain.blocks.map { Data($0.wireBytes()).base64EncodedString() }
        let bad = try await h.push(rawCertificate: certificate, gatewayURL: "ftp://gw", blocks: blocks)
        #expect(bad.status == 400)
        #expect(bad.reasons == "malformed-url")
        #expect(bad.response.checkpoints.isEmpty)

        let good = try await h.push(rawCertificate: certificate, gatewayURL: "http://127.0.0.1:8080", blocks: blocks)
        #expect(good.status == 200)
        let restarted = try await h.reopen()
        #expect(try await restarted.node.gatewayEndpoints()[gateway.id] == "http://127.0.0.1:8080")
        let list = try await restarted.get("/v1/gateways", as: GatewayListView.self)
        #expect(list.gateways.first?.url == "http://127.0.0.1:8080")
    }

    /// A gateway records a root key of its own making as its authority (so it could sign
    /// escalation decisions itself): the block is refused, naming the key; the super node's
    /// own root key is accepted.
    @Test(arguments: StoreKind.allCases) func authorityRecordWithAForeignRootKeyIsRefused(store: StoreKind) async throws
    {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = try ChainMaker.standard(gateway: gateway)
        #expect(try await h.push(cert, chain.blocks).status == 200)

        var honest = chain
        try honest.gatewayRecord(
            .authority(AuthorityRecord(rootKey: h.rootKey, certificate: cert, timestamp: honest.time))
        )
        try honest.flush()
        let accepted = try await h.push(cert, [honest.blocks[4]])
        #expect(accepted.status == 200, "\(accepted.response)")

        let forger = TestKeys.key(0x77)
        let forged = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: forger.id,
                gatewayKey: gateway.publicIdentity,
                serial: 1,
                issuedAt: chain.time,
                name: "gw"
            ),
            with: forger
        )
        try chain.gatewayRecord(
            .authority(AuthorityRecord(rootKey: forger.publicIdentity, certificate: forged, timestamp: chain.time))
        )
        try chain.flush()
        let h2 = try await NodeHarness.make(store: store)
        let cert2 = try await h2.certify(gateway)
        #expect(try await h2.push(cert2, Array(chain.blocks.prefix(4))).status == 200)
        let refused = try await h2.push(cert2, [chain.blocks[4]])
        #expect(refused.status == 422)
        #expect(refused.reasons == "foreign-authority")
        #expect(refused.response.rejected?.message.contains(forger.id.hex) == true)
        #expect(try await h2.node.auditedTips()[gateway.id]?.height == 3)
    }

    /// A dishonest gateway gives a request to the wrong producer, re-signs the dispatch and
    /// re-seals the chain: every signature, link and root is valid, only the TNT replay
    /// catches it.
    @Test(arguments: StoreKind.allCases) func unfairDispatchIsRejectedNamingTheDispatch(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let honest = try ChainMaker.standard(gateway: gateway)
        var entries = honest.blocks.flatMap(\.entries)
        var state = ChainState(gatewayKey: gateway.publicIdentity)
        var target: (index: Int, dispatch: Dispatch, unfair: MeterID, unfairTNT: UInt64)?
        for (i, entry) in entries.enumerated() {
            if case let .dispatch(d) = entry.record, case let .served(fair, amount, _) = d.outcome {
                let unfair = try #require(
                    honest.producers.map(\.id).first {
                        $0 != fair && (state.tnt.status(of: $0)?.availableWh ?? 0) >= amount
                    }
                )
                target = (i, d, unfair, state.tnt.status(of: unfair)?.tnt ?? 0)
                break
            }
            try state.apply(entry)
        }
        let (index, original, unfair, unfairTNT) = try #require(target)
        guard case let .served(_, amount, _) = original.outcome else { return }
        let rewritten = try Dispatch(
            request: original.request,
            outcome: .served(producer: unfair, energyWh: amount, producerTNTBefore: unfairTNT)
        )
        entries[index] = gateway.signed(.dispatch(rewritten))

        var forger = ChainMaker(gateway: gateway)
        forger.builder.forging = true
        for entry in entries { try forger.add(entry) }
        try forger.flush()
        for block in forger.blocks { #expect(block.header.isSignatureValid(by: gateway.publicIdentity)) }

        let pushed = try await h.push(cert, forger.blocks)
        let height = UInt64(index / 4)
        #expect(pushed.status == 422)
        #expect(pushed.reasons == "unfair-dispatch")
        #expect(pushed.response.rejected?.height == height)
        #expect(pushed.response.checkpoints.count == Int(height))  // the blocks before it were fine
        let message = try #require(pushed.response.rejected?.message)
        #expect(message.contains("entry \(index)"))
        #expect(message.contains("TNT rule gives"))
        #expect(message.contains(unfair.hex))
    }
}

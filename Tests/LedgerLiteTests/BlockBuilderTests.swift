import TestSupport
import Testing

@testable import LedgerLite

@Suite struct BlockBuilderTests {
    let t = TestKeys.baseTime

    func enrolledBuilder(maxEntries: Int, maxAge: Int64) throws -> BlockBuilder {
        var b = BlockBuilder(
            gateway: TestKeys.gateway,
            policy: SealPolicy(maxEntries: maxEntries, maxAgeMilliseconds: maxAge)
        )
        _ = try b.addGatewayRecord(
            .enrollment(Enrollment(meterKey: TestKeys.meter.publicIdentity, role: .consumer, timestamp: t)),
            at: t
        )
        _ = try b.seal(at: t)
        return b
    }

    func reading(_ seq: UInt64) throws -> SignedRecord {
        TestKeys.meter.signed(
            .reading(
                try Reading(
                    meter: TestKeys.meter.id,
                    sequence: seq,
                    timestamp: t,
                    values: [MeasuredValue(.energyImportWh, Int64(seq))]
                )
            )
        )
    }

    @Test func sealsOnSizeThreshold() throws {
        var b = try enrolledBuilder(maxEntries: 3, maxAge: 1_000_000)
        #expect(try b.add(reading(1), at: t + 1) == nil)
        #expect(try b.add(reading(2), at: t + 2) == nil)
        let block = try #require(try b.add(reading(3), at: t + 3))
        #expect(block.entries.count == 3)
        #expect(block.height == 1)
        #expect(block.header.header.treeSize == 4)
        #expect(block.firstEntryIndex == 1)
        #expect(block.header.header.firstTimestamp == t + 1)
        #expect(block.header.header.lastTimestamp == t + 3)
        #expect(b.pendingCount == 0)
    }

    @Test func sealsOnTimeThresholdWithInjectedTime() throws {
        var b = try enrolledBuilder(maxEntries: 100, maxAge: 1000)
        #expect(try b.add(reading(1), at: t + 10) == nil)
        #expect(try b.add(reading(2), at: t + 500) == nil)
        #expect(try b.sealIfDue(at: t + 1009) == nil)
        let block = try #require(try b.sealIfDue(at: t + 1010))
        #expect(block.entries.count == 2)
        #expect(block.header.header.firstTimestamp == t + 10)
        #expect(try b.sealIfDue(at: t + 5000) == nil)  // nothing pending
        // An entry arriving after the age has passed seals the block it joins.
        #expect(try b.add(reading(3), at: t + 6000) == nil)
        let late = try #require(try b.add(reading(4), at: t + 7000))
        #expect(late.entries.count == 2)
    }

    @Test func timeNeverRunsBackwards() throws {
        var b = try enrolledBuilder(maxEntries: 2, maxAge: 1_000_000)
        _ = try b.add(reading(1), at: t + 100)
        let block = try #require(try b.add(reading(2), at: t + 50))
        #expect(block.header.header.lastTimestamp == t + 100)
    }

    @Test func blocksLinkAndCommitToTreeAndState() throws {
        let f = try ChainFixture.standard()
        var previous: Hash256 = .zero
        var tree = MerkleTree()
        for (height, block) in f.blocks.enumerated() {
            let header = block.header.header
            #expect(header.height == UInt64(height))
            #expect(header.previousHash == previous)
            #expect(block.header.isSignatureValid(by: TestKeys.gateway.publicIdentity))
            for entry in block.entries { tree.append(entry: entry.bytes) }
            #expect(header.treeSize == tree.size)
            #expect(header.merkleRoot == tree.root)
            previous = block.hash
        }
        var state = f.builder.state.tnt
        #expect(f.blocks.last?.header.header.version == 2)
        #expect(f.blocks.last?.header.header.stateDigest == state.commitmentDigest())
        // Every entry's inclusion proof verifies against its block's root.
        for block in f.blocks {
            for (offset, entry) in block.entries.enumerated() {
                let proof = try tree.inclusionProof(
                    index: block.firstEntryIndex + UInt64(offset),
                    treeSize: block.header.header.treeSize
                )
                #expect(proof.verify(entry: entry.bytes, root: block.header.header.merkleRoot))
            }
        }
    }

    @Test func refusesBadEntriesAndStaysUnchanged() throws {
        var b = try enrolledBuilder(maxEntries: 100, maxAge: 1_000_000)
        _ = try b.add(reading(1), at: t)
        let digest = b.state.tnt.digest()
        let root = b.tree.root

        var forged = try reading(2).bytes
        forged[22 + 37 + 9] ^= 1  // last byte of the first value, inside the signed body
        #expect(throws: BuilderError.badSignature(signer: TestKeys.meter.id)) {
            try b.add(SignedRecord(bytes: forged), at: t)
        }

        #expect(throws: BuilderError.ruleViolation(.sequenceGap(TestKeys.meter.id, expected: 2, found: 5))) {
            try b.add(reading(5), at: t)
        }
        #expect(throws: BuilderError.ruleViolation(.sequenceReplay(TestKeys.meter.id, expected: 2, found: 1))) {
            try b.add(reading(1), at: t)
        }

        let stranger = TestKeys.key(0x77)
        let strangerReading = stranger.signed(
            .reading(try Reading(meter: stranger.id, sequence: 1, timestamp: t, values: []))
        )
        #expect(throws: BuilderError.ruleViolation(.unknownSigner(stranger.id))) { try b.add(strangerReading, at: t) }

        // A meter may not sign a gateway record.
        let fakeEnrollment = TestKeys.meter.signed(
            .enrollment(Enrollment(meterKey: stranger.publicIdentity, role: .producer, timestamp: t))
        )
        #expect(
            throws: BuilderError.ruleViolation(
                .signerMismatch(signer: TestKeys.meter.id, expected: TestKeys.gateway.id, type: .enrollment)
            )
        ) {
            try b.add(fakeEnrollment, at: t)
        }
        #expect(b.pendingCount == 1)
        #expect(b.state.tnt.digest() == digest)
        #expect(b.tree.root == root)
        #expect(try b.add(reading(2), at: t) == nil)
    }

    @Test func resumesFromAVerifiedChain() throws {
        var f = try ChainFixture.standard()
        let verified = try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: f.blocks)
        var resumed = try BlockBuilder(gateway: TestKeys.gateway, policy: f.builder.policy, resuming: verified)
        let next = TestKeys.meter  // not enrolled: must be refused in the resumed state too
        #expect(throws: BuilderError.self) {
            try resumed.add(
                next.signed(.reading(try Reading(meter: next.id, sequence: 1, timestamp: t, values: []))),
                at: f.time
            )
        }
        let c = f.consumers[0]
        let seq = (f.readingSeq[c.id] ?? 0) + 1
        _ = try resumed.add(
            c.signed(.reading(try Reading(meter: c.id, sequence: seq, timestamp: f.time, values: []))),
            at: f.time + 1
        )
        let block = try #require(try resumed.seal(at: f.time + 2))
        #expect(block.header.header.previousHash == f.blocks.last?.hash)
        f.blocks.append(block)
        #expect(throws: Never.self) {
            try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: f.blocks)
        }
        #expect(throws: BuilderError.wrongGateway(chain: TestKeys.gateway.id, builder: TestKeys.meter.id)) {
            try BlockBuilder(gateway: TestKeys.meter, policy: f.builder.policy, resuming: verified)
        }
    }
}

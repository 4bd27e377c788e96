import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

/// Block header versions: version 1 commits to the TNT state's version-2 digest, version 2
/// to the version-3 commitment; chains written before still verify, and a chain moves to
/// version 2 at a block boundary and never back.
@Suite struct HeaderVersionTests {
    let verifier = ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity, concurrency: 2)

    /// The standard fixture's chain, sealed with version-1 headers as before.
    static func legacyChain() throws -> ChainFixture {
        var f = ChainFixture()
        f.builder.sealsLegacyHeaders = true
        try f.enrollAll()
        try f.offer(f.producers[0], 1000)
        try f.offer(f.producers[1], 500)
        for round in 0..<3 {
            for m in f.consumers + f.producers { try f.reading(m) }
            try f.request(f.consumers[round % 2], UInt64(100 + 50 * round))
        }
        try f.finish()
        return f
    }

    /// The same signed block with its header changed and signed again by the gateway key, as
    /// a gateway committing to another state would.
    static func resigned(_ block: Block, _ change: (inout BlockHeader) -> Void) throws -> Block {
        var header = block.header.header
        change(&header)
        return Block(header: try SignedBlockHeader.sign(header, with: TestKeys.gateway), entries: block.entries)
    }

    func failure(_ blocks: [Block]) -> VerificationFailure? {
        do {
            _ = try verifier.verify(blocks: blocks)
            return nil
        } catch {
            return error
        }
    }

    @Test func newChainsAreSealedWithVersion2HeadersCommittingToTheVersion3Digest() throws {
        var f = try ChainFixture.standard()
        #expect(f.blocks.allSatisfy { $0.header.header.version == 2 })
        let verified = try verifier.verify(blocks: f.blocks)
        #expect(verified.tip == f.builder.tip)
        var state = f.builder.state.tnt
        #expect(f.blocks.last?.header.header.stateDigest == state.commitmentDigest())
        #expect(f.blocks.last?.header.header.stateDigest == StateCommitmentTests.referenceDigest(state))
        try f.reading(f.consumers[0])
        try f.finish()
        #expect(try storeFailure(f.blocks) == nil)
    }

    @Test func aChainOfVersion1HeadersStillVerifiesAndContinuesWithVersion2() throws {
        let legacy = try Self.legacyChain()
        #expect(legacy.blocks.count >= 3)
        #expect(legacy.blocks.allSatisfy { $0.header.header.version == 1 })
        #expect(legacy.blocks.last?.header.header.stateDigest == legacy.builder.state.tnt.digest())
        let verified = try verifier.verify(blocks: legacy.blocks)
        #expect(try storeFailure(legacy.blocks) == nil)

        // A gateway resuming it (as after an upgrade) seals version 2 from its next block.
        var f = legacy
        f.builder = try BlockBuilder(gateway: TestKeys.gateway, policy: legacy.builder.policy, resuming: verified)
        for m in f.consumers + f.producers { try f.reading(m) }
        try f.request(f.consumers[1], 120)
        try f.finish()
        let added = f.blocks[legacy.blocks.count...]
        #expect(!added.isEmpty)
        #expect(added.allSatisfy { $0.header.header.version == 2 })
        let whole = try verifier.verify(blocks: f.blocks)
        #expect(whole.tip == f.builder.tip)
        #expect(try storeFailure(f.blocks) == nil)

        var auditor = ChainAuditor(gatewayKey: TestKeys.gateway.publicIdentity, concurrency: 2)
        for block in f.blocks { try auditor.append(block) }
        #expect(auditor.tip == whole.tip)
    }

    @Test func aVersion1HeaderAfterAVersion2HeaderIsRefused() throws {
        var f = try ChainFixture.standard()
        let height = f.blocks.count
        f.builder.sealsLegacyHeaders = true
        try f.reading(f.consumers[0])
        try f.finish()
        #expect(f.blocks.last?.header.header.version == 1)
        let fail = try #require(failure(f.blocks))
        #expect(fail.height == UInt64(height))
        #expect(fail.problem == .headerVersionDecreased(previous: 2, found: 1))
    }

    @Test func aTamperedVersion2StateDigestIsNamedByTheVerifierAndTheAuditor() throws {
        let f = try ChainFixture.standard()
        let target = 2
        var blocks = f.blocks
        blocks[target] = try Self.resigned(blocks[target]) { $0.stateDigest = Hash256.sha256([1]) }
        // The next block's link must follow the altered block, so only the digest is wrong.
        blocks[target + 1] = try Self.resigned(blocks[target + 1]) { $0.previousHash = blocks[target].hash }
        let fail = try #require(failure(blocks))
        #expect(fail.height == UInt64(target))
        #expect(fail.problem == .stateDigestMismatch)

        var auditor = ChainAuditor(gatewayKey: TestKeys.gateway.publicIdentity, concurrency: 2)
        for block in blocks[..<target] { try auditor.append(block) }
        #expect(throws: VerificationFailure(height: UInt64(target), entryIndex: nil, problem: .stateDigestMismatch)) {
            try auditor.append(blocks[target])
        }
        #expect(auditor.nextHeight == UInt64(target))
        try auditor.append(f.blocks[target])  // the genuine block still goes in
    }

    /// The digest is chosen by the version: a version-2 digest under a version-1 header (or
    /// the reverse) does not verify.
    @Test func theStateDigestIsReadByTheHeadersVersion() throws {
        let f = try ChainFixture.standard()
        let asVersion1 = try Self.resigned(f.blocks[0]) { $0.version = 1 }
        #expect(failure([asVersion1])?.problem == .stateDigestMismatch)
        let legacy = try Self.legacyChain()
        let asVersion2 = try Self.resigned(legacy.blocks[0]) { $0.version = 2 }
        #expect(failure([asVersion2])?.problem == .stateDigestMismatch)
    }

    @Test func headerVersionsOutsideOneAndTwoDoNotDecode() throws {
        let f = try ChainFixture.standard()
        for version: UInt8 in [0, 3, 0xff] {
            var bytes = f.blocks[0].header.bytes
            bytes[1] = version
            #expect(throws: RecordDecodingError.unsupportedVersion(recordType: 0x10, version: version)) {
                try SignedBlockHeader(bytes: bytes)
            }
        }
    }

    func storeFailure(_ blocks: [Block]) throws -> VerificationFailure? {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try ChainStore(path: dir.file("c.sqlite"))
        for block in blocks { try store.append(block) }
        let reopened = try ChainStore(path: dir.file("c.sqlite"), check: .none)
        do {
            _ = try verifier.verify(reopened)
            return nil
        } catch let failure as VerificationFailure {
            return failure
        }
    }
}

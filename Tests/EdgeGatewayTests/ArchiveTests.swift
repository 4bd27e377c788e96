import Foundation
import GridAPI
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

@Suite("Archive and pruning")
struct ArchiveTests {
    static let far: Int64 = 4_102_444_800_000  // 2100-01-01

    /// A gateway with `meters` meters and `perMeter` readings each, sealed into many blocks.
    static func filled(meters: Int = 4, perMeter: UInt64 = 600) async throws -> (Harness, [SigningIdentity]) {
        var config = ChainWriterConfig()
        config.snapshotEntries = 1
        let h = try await Harness.make(config: config)
        let keys = (0..<meters).map { _ in SigningIdentity() }
        for key in keys { try await h.enroll(key) }
        var next: UInt64 = 1
        while next <= perMeter {
            let last = min(perMeter, next + 49)
            var batch: [SignedRecord] = []
            for key in keys {
                for seq in next...last { batch.append(try h.reading(key, seq, at: Int64(seq) * 10)) }
            }
            let results = try await h.post(batch)
            #expect(results.allSatisfy { $0.status == .accepted }, "\(results.first { $0.status != .accepted }!)")
            await h.gateway.writer.sealNow()
            next = last + 1
        }
        return (h, keys)
    }

    /// `edge-gateway archive` of everything sealed, off the cooperative pool.
    static func archive(
        _ h: Harness,
        to out: String,
        segmentEntries: Int = 1000
    ) async throws
        -> GatewayArchive.Summary
    {
        let dir = h.dir
        return try await offThePool { try archiveNow(dir, to: out, segmentEntries: segmentEntries) }
    }

    /// The same, on the calling thread (inside a store read that must not suspend).
    static func archiveNow(_ dir: DataDirectory, to out: String, segmentEntries: Int) throws -> GatewayArchive.Summary {
        try GatewayArchive.run(
            dir,
            options: .init(before: far, outDirectory: out, uncheckpointed: true, segmentEntries: segmentEntries)
        )
    }

    /// `edge-gateway verify`'s check, off the cooperative pool.
    static func verify(_ dir: DataDirectory, archive: String? = nil) async throws -> VerifyCommand.Summary {
        try await offThePool { try VerifyCommand.check(dir, archive: archive) }
    }

    @Test(
        "archived blocks leave the live store, verify offline and end to end, and the gateway goes on: duplicates of pruned readings are still told from equivocations"
    )
    func roundTrip() async throws {
        let (h, keys) = try await Self.filled()
        let out = h.dir.path + "-archive"
        defer {
            try? FileManager.default.removeItem(atPath: h.dir.path)
            try? FileManager.default.removeItem(atPath: out)
        }
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        let entriesBefore = try store.entryCount()
        let tipBefore = try #require(try store.tip())

        let summary = try await Self.archive(h, to: out)
        #expect(summary.segments.count >= 2)
        #expect(summary.prunedReadings >= 2000)
        #expect(summary.segments.allSatisfy { !$0.reused })
        let boundary = try #require(summary.boundary)
        #expect(try store.entryCount() < entriesBefore - 2000)
        #expect(try store.tip() == tipBefore)  // headers stay

        // The live part verifies from the boundary; with --archive, from block 0.
        let live = try await Self.verify(h.dir)
        #expect(live.ok, "\(String(describing: live.failure))")
        #expect(live.archivedBlocks == boundary + 1)
        #expect(live.blocks == tipBefore.height + 1)
        #expect(live.resumeSnapshot?.hasPrefix("block") == true)
        let whole = try await Self.verify(h.dir, archive: out)
        #expect(whole.ok, "\(String(describing: whole.failure))")
        #expect(whole.archiveVerified == true)
        let report = try ArchiveDirectory(out).verifyAll(gatewayKey: h.gateway.writer.gatewayKey.publicIdentity)
        #expect(report.blocks == boundary + 1)

        // A pruned reading: its receipt names its segment, whose proof checks offline.
        let meter = keys[0]
        #expect(try store.reading(meter: meter.id, sequence: 1) == nil)
        let archived = try #require(try store.archivedReading(meter: meter.id, sequence: 1))
        let segmentRow = try #require(archived.segment)
        let gone = try await h.get("/v1/readings/\(meter.id.hex)/1/receipt", as: ErrorView.self, status: .gone)
        #expect(gone.error.contains("archived in segment \(segmentRow.name)"), "\(gone.error)")
        let (segment, _) = try ArchiveDirectory(out).check(segmentRow.name, gatewayKey: nil)
        let found = try #require(try segment.inclusion(ofEntry: archived.index))
        #expect(found.proof.verify(leafHash: found.entry.leafHash, root: found.block.header.header.merkleRoot))
        #expect(Hash256.sha256(found.entry.bytes) == archived.digest)

        // Resent bytes of a pruned reading are a duplicate; other bytes, an equivocation.
        let again = try await h.post([try h.reading(meter, 1, at: 10)])
        #expect(again.first?.status == .duplicate, "\(again)")
        let forged = try await h.post([try h.reading(meter, 2, at: 20, powerW: 999)])
        #expect(forged.first?.reason == .conflictingDuplicate, "\(forged)")

        // Restarted, the gateway goes on from its snapshot and keeps ingesting.
        h.close()
        let reopened = try await h.reopen()
        let more = try await reopened.post([try reopened.reading(meter, 601, at: 6010)])
        #expect(more.first?.status == .accepted, "\(more)")
        let duplicate = try await reopened.post([try reopened.reading(meter, 3, at: 30)])
        #expect(duplicate.first?.status == .duplicate, "\(duplicate)")
        await reopened.gateway.writer.sealNow()
        reopened.close()
        let after = try await Self.verify(h.dir, archive: out)
        #expect(after.ok, "\(String(describing: after.failure))")

        // A second run finds nothing new below the boundary it left, or archives what followed.
        let rerun = try await Self.archive(h, to: out)
        #expect(rerun.boundary ?? 0 >= boundary)
        #expect(try await Self.verify(h.dir, archive: out).ok)
        // The store opens with its full start-up check.
        _ = try ChainStore(path: h.dir.chainPath, check: .full)
    }

    /// A check that reads the store in several steps (`ChainVerifier.verify`: the archive
    /// boundary, then the blocks after it) while an `archive` runs: on the live store it sees
    /// two boundaries and fails though nothing is wrong; on a frozen store (what `verify`
    /// reads) it sees one state and passes.
    @Test("verify reads one state of the store: an archive run meanwhile is no false failure")
    func verifyBesideAnArchive() async throws {
        let (h, _) = try await Self.filled(meters: 2, perMeter: 300)
        let out = h.dir.path + "-archive"
        defer {
            try? FileManager.default.removeItem(atPath: h.dir.path)
            try? FileManager.default.removeItem(atPath: out)
        }
        h.close()
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        let verifier = ChainVerifier(gatewayKey: h.gateway.writer.gatewayKey.publicIdentity)
        let tip = try #require(try store.tip())
        let frozen = try store.frozen()
        let dir = h.dir
        let beside = ArchiveBetweenReads(base: frozen) { _ = try Self.archiveNow(dir, to: out, segmentEntries: 200) }
        let seen = try await offThePool { try verifier.verify(beside) }
        #expect(seen.firstHeight == 0 && seen.blockCount == tip.height + 1, "the frozen store still holds every block")
        #expect(seen.tip == tip)
        #expect(try store.archivedPrefix() != nil, "the archive ran meanwhile")

        // Three more blocks, 10 s apart; an archive run before the last leaves it live.
        var config = ChainWriterConfig()
        config.snapshotEntries = 1
        let h2 = try await h.reopen(config: config)
        let key = SigningIdentity()
        try await h2.enroll(key)
        var sequence: UInt64 = 0
        for _ in 0..<3 {
            h2.clock.advance(ms: 10_000)
            var batch: [SignedRecord] = []
            for _ in 0..<50 {
                sequence += 1
                batch.append(try h2.reading(key, sequence, at: Int64(sequence)))
            }
            let results = try await h2.post(batch)
            #expect(results.allSatisfy { $0.status == .accepted })
            await h2.gateway.writer.sealNow()
        }
        let cutoff = h2.clock.now - 5_000
        h2.close()
        let second = out + "-2"
        defer { try? FileManager.default.removeItem(atPath: second) }
        let live = ArchiveBetweenReads(base: store) {
            _ = try GatewayArchive.run(
                dir,
                options: .init(before: cutoff, outDirectory: second, uncheckpointed: true, segmentEntries: 200)
            )
        }
        await #expect(throws: VerificationFailure.self, "the live store read across an archive run mixes two states") {
            try await offThePool { try verifier.verify(live) }
        }
        #expect(try await Self.verify(h.dir).ok)
    }

    @Test("a segment written but not recorded (a run killed before pruning) is verified and reused")
    func segmentWrittenButNotRecordedIsReused() async throws {
        let (h, _) = try await Self.filled(meters: 2, perMeter: 300)
        let out = h.dir.path + "-archive"
        let scratch = h.dir.path + "-scratch"
        defer {
            h.close()
            for path in [h.dir.path, out, scratch, scratch + "-archive"] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        // The same chain archived in a copy: its segments are what a killed run left in `out`.
        _ = try GatewayBackup.write(from: h.dir, to: scratch)
        _ = try GatewayArchive.run(
            DataDirectory(scratch),
            options: .init(before: Self.far, outDirectory: out, uncheckpointed: true, segmentEntries: 300)
        )
        let summary = try await Self.archive(h, to: out, segmentEntries: 300)
        #expect(!summary.segments.isEmpty)
        #expect(summary.segments.allSatisfy { $0.reused })
        #expect(try await Self.verify(h.dir, archive: out).ok)
    }

    @Test("without a super-node checkpoint, archive refuses with one line naming --uncheckpointed")
    func refusedWithoutCheckpoints() async throws {
        let (h, _) = try await Self.filled(meters: 1, perMeter: 20)
        defer {
            h.close()
            try? FileManager.default.removeItem(atPath: h.dir.path)
        }
        let out = h.dir.path + "-archive"
        do {
            _ = try GatewayArchive.run(
                h.dir,
                options: .init(before: Self.far, outDirectory: out, uncheckpointed: false)
            )
            Issue.record("archive without checkpoints was not refused")
        } catch let error as ArchiveError {
            #expect(error.description.contains("--uncheckpointed"))
            #expect(!error.description.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try ChainStore(path: h.dir.chainPath, check: .none).archivedPrefix() == nil)
    }

    @Test(
        "hostile segments are refused with a clear line: truncated, a flipped byte, reordered blocks, another gateway's"
    )
    func hostileSegmentsAreRefused() async throws {
        let (h, _) = try await Self.filled(meters: 2, perMeter: 200)
        let (other, _) = try await Self.filled(meters: 1, perMeter: 100)
        let out = h.dir.path + "-archive"
        let foreign = other.dir.path + "-archive"
        defer {
            h.close()
            other.close()
            for path in [h.dir.path, other.dir.path, out, foreign] { try? FileManager.default.removeItem(atPath: path) }
        }
        _ = try await Self.archive(h, to: out, segmentEntries: 200)
        _ = try await Self.archive(other, to: foreign, segmentEntries: 200)
        let names = try ArchiveDirectory(out).segmentNames()
        let first = try #require(names.first)
        let path = out + "/" + first
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let key = h.gateway.writer.gatewayKey.publicIdentity

        func refusal(_ bytes: [UInt8]) -> ArchiveSegmentError? {
            do {
                _ = try ArchiveSegment.verified(bytes, gatewayKey: key)
                return nil
            } catch { return error }
        }
        #expect(refusal(original) == nil)
        #expect(refusal(Array(original.prefix(original.count - 100))) == .hashMismatch)
        #expect(refusal(Array(original.prefix(40))) == .truncated)
        var flipped = original
        flipped[original.count / 2] ^= 0x01
        #expect(refusal(flipped) == .hashMismatch)

        // Reordered with a valid file hash: the chain check refuses it.
        let (segment, _) = try ArchiveSegment.decode(original)
        #expect(segment.blocks.count >= 3)
        var blocks = segment.blocks
        blocks.swapAt(1, 2)
        let reordered = try ArchiveSegment(gatewayKey: key, start: segment.start, blocks: blocks).encoded()
        switch refusal(reordered) {
        case .chain(let failure)?: #expect(failure.description.contains("block 1"), "\(failure)")
        case .inconsistent(let what)?: #expect(what.contains("blocks"), "\(what)")
        case let other: Issue.record("a reordered segment was not refused as such: \(String(describing: other))")
        }

        // Another gateway's segment: refused under this gateway's key, and as part of this archive.
        let foreignName = try #require(try ArchiveDirectory(foreign).segmentNames().first)
        let foreignBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: foreign + "/" + foreignName)))
        guard case .otherGateway? = refusal(foreignBytes) else {
            Issue.record("another gateway's segment was not refused")
            return
        }
        try Data(foreignBytes).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ArchiveDirectory(out).verifyAll(gatewayKey: key)
        } throws: { error in
            "\(error)".contains(first) && "\(error)".contains("another gateway")
        }
        // `verify --archive` says the archive does not verify; the live store is untouched.
        let summary = try await Self.verify(h.dir, archive: out)
        #expect(!summary.ok)
        #expect(summary.failure?.problem.contains(first) == true, "\(String(describing: summary.failure))")
        #expect(try await Self.verify(h.dir).ok)
    }
}

/// A `RawBlockSource` that runs `between` after the archive boundary is read and before the
/// blocks are: an `archive` landing in the middle of a check.
struct ArchiveBetweenReads: RawBlockSource, Sendable {
    let base: ChainStore
    let between: @Sendable () throws -> Void

    func archivedPrefix() throws -> ArchivedPrefix? {
        let prefix = try base.archivedPrefix()
        try between()
        return prefix
    }

    func forEachRawBlock(_ body: (RawBlock) throws -> Void) throws { try base.forEachRawBlock(body) }

    func orphanEntries() throws -> (count: Int, firstIndex: UInt64?) { try base.orphanEntries() }
}

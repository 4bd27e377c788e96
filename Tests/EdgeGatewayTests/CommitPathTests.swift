import Foundation
import GRDB
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// Every kind of entry reaches the chain through one commit path (stage, journal, then
/// archive), so durability does not depend on the kind of entry.
@Suite("One commit path for every kind of entry")
struct CommitPathTests {
    /// Makes every insert into the pending journal fail until `heal()`.
    struct BrokenJournal {
        let queue: DatabaseQueue

        init(_ h: Harness) async throws {
            queue = try DatabaseQueue(path: h.dir.journalPath)
            try await queue.write {
                try $0.execute(
                    sql: "CREATE TRIGGER full_disk BEFORE INSERT ON pending BEGIN SELECT RAISE(FAIL, 'disk full'); END"
                )
            }
        }

        func heal() async throws {
            try await queue.write { try $0.execute(sql: "DROP TRIGGER full_disk") }
        }
    }

    @Test func readingsThatCannotBeJournaledLeaveNothingBehindAndAreAcceptedLater() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let before = await h.gateway.writer.health()
        let journal = try await BrokenJournal(h)
        let readings = try (1...3).map { try h.reading(meter, UInt64($0)) }

        let deferred = try await h.post(readings)
        #expect(deferred.map(\.summary) == ["retry:storage", "retry:storage", "retry:storage"])
        let after = await h.gateway.writer.health()
        #expect(after.entries == before.entries, "nothing that is not durable stays in the tree")
        #expect(after.pending == before.pending)
        #expect(await h.gateway.writer.isPending(meter: meter.id, sequence: 1) == false)

        try await journal.heal()
        #expect(try await h.post(readings).map(\.summary) == ["accepted", "accepted", "accepted"])
    }

    @Test func anEnrollmentThatCannotBeJournaledEnrollsNobody() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let journal = try await BrokenJournal(h)
        let meter = SigningIdentity()
        await #expect(throws: AdminError.self) { try await h.enroll(meter) }
        #expect(await h.gateway.writer.meter(meter.id) == nil)
        #expect(await h.gateway.writer.health().entries == 0)

        try await journal.heal()
        try await h.enroll(meter)
        #expect(try await h.post([try h.reading(meter, 1)]).map(\.summary) == ["accepted"])
    }

    @Test func blocksSealedByAGroupReachTheStoreOnlyOnceTheGroupIsDurable() async throws {
        let h = try await Harness.make(config: ChainWriterConfig(sealSize: 2))
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)  // block 0
        let journal = try await BrokenJournal(h)
        _ = try await h.post(try (1...5).map { try h.reading(meter, UInt64($0)) })
        await h.gateway.writer.waitUntilStored()
        #expect(
            try h.gateway.writer.store.blockCount() == 1,
            "the blocks of a group that was not journaled are dropped"
        )

        try await journal.heal()
        _ = try await h.post(try (1...5).map { try h.reading(meter, UInt64($0)) })
        await h.gateway.writer.waitUntilStored()
        #expect(try h.gateway.writer.store.blockCount() == 3)
    }

    /// The gateway's reasons come from the chain's own rules: what it refuses, a verifier
    /// replaying the chain refuses for the same rule.
    @Test func admissionAndTheChainRulesGiveTheSameVerdict() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let (meter, stranger) = (SigningIdentity(), SigningIdentity())
        try await h.enroll(meter)
        let gap = try h.reading(meter, 3)
        let unknown = try h.reading(stranger, 1)
        #expect(
            try await h.post([gap, unknown]).map(\.summary) == ["rejected:sequence-gap", "rejected:unknown-meter"]
        )
        let state = await h.gateway.writer.builder.state
        #expect(throws: RuleViolation.sequenceGap(meter.id, expected: 1, found: 3)) { try state.admit(gap) }
        #expect(throws: RuleViolation.unknownSigner(stranger.id)) { try state.admit(unknown) }
    }

    /// A closed gateway's writer is released, and with it its SQLite files: a task that
    /// follows the archiver and was never resumed kept every writer alive (9 descriptors
    /// each, 388 open after 40 gateways in one process).
    @Test func aClosedGatewayReleasesItsWriter() async throws {
        final class WeakWriter: @unchecked Sendable { weak var writer: ChainWriter? }
        let held = WeakWriter()
        do {
            let h = try await Harness.make()
            held.writer = h.gateway.writer
            let meter = SigningIdentity()
            try await h.enroll(meter)
            _ = try await h.post([try h.reading(meter, 1)])
            h.close()
        }
        try await waitUntil("the closed gateway's writer is released") { held.writer == nil }
    }
}

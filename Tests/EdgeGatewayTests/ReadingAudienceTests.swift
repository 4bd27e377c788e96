import Foundation
import GridAPI
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// A reading names the gateway it is for (version 2): another gateway where the same meter is
/// enrolled refuses it. Version 1 readings, which name none, are taken until the gateway's
/// transition date and refused after it; chains that hold them keep working.
@Suite("Readings addressed to their gateway")
struct ReadingAudienceTests {
    let meter = TestKeys.meter

    func reading(
        _ h: Harness,
        _ sequence: UInt64,
        for gateway: GatewayID?,
        importWh: Int64? = nil
    ) throws -> SignedRecord {
        let r = try Reading(
            meter: meter.id,
            gateway: gateway,
            sequence: sequence,
            timestamp: h.clock.now,
            values: [MeasuredValue(.energyImportWh, importWh ?? Int64(sequence)), MeasuredValue(.activePowerW, 500)]
        )
        return try SignedRecord.sign(.reading(r), with: meter)
    }

    func id(of h: Harness) -> GatewayID { h.gateway.writer.gatewayKey.id }

    @Test func aReadingTakenForGatewayAIsRefusedByGatewayB() async throws {
        let a = try await Harness.make()
        defer { a.close() }
        let b = try await Harness.make()
        defer { b.close() }
        try await a.enroll(meter)
        try await b.enroll(meter)
        let forA = try reading(a, 1, for: id(of: a))
        #expect(try await a.post([forA]).map(\.summary) == ["accepted"])

        let replayed = try await b.post([forA])
        #expect(replayed.map(\.summary) == ["rejected:wrong-gateway"])
        let detail = try #require(replayed.first?.detail)
        #expect(detail.contains(id(of: a).hex) && detail.contains(id(of: b).hex))
        #expect(replayed.first?.meter == meter.id.hex && replayed.first?.sequence == 1)

        // The refusal does not use up the number: the meter's own reading for B takes it.
        #expect(try await b.post([try reading(b, 1, for: id(of: b))]).map(\.summary) == ["accepted"])
        #expect(try await b.post([forA]).map(\.summary) == ["rejected:wrong-gateway"])
    }

    @Test func aReadingForAnotherGatewayIsRecordedOnceAsAForeignReadingAnomaly() async throws {
        let a = try await Harness.make()
        defer { a.close() }
        let b = try await Harness.make()
        try await b.enroll(meter)
        let forA = try (1...3).map { try reading(a, $0, for: id(of: a)) }
        for record in forA {
            #expect(try await b.post([record]).map(\.summary) == ["rejected:wrong-gateway"])
        }
        await b.gateway.writer.sealNow()
        let anomalies = try b.gateway.writer.store.anomalies().compactMap { e -> Anomaly? in
            if case let .anomaly(x) = e.entry.record { return x } else { return nil }
        }
        #expect(anomalies.count == 1, "once per meter and gateway named, not per reading")
        let anomaly = try #require(anomalies.first)
        #expect(anomaly.kind == .replay && anomaly.subject == meter.id)
        #expect(anomaly.evidenceHash == Hash256.sha256(forA[0].bytes))
        #expect(anomaly.detail.hasPrefix("foreign-reading: reading 1 is addressed to gateway \(id(of: a).hex)"))
        b.close()

        // A restart remembers it: more replays from the same gateway add nothing.
        let reopened = try await b.reopen()
        defer { reopened.close() }
        #expect(try await reopened.post([forA[2]]).map(\.summary) == ["rejected:wrong-gateway"])
        await reopened.gateway.writer.sealNow()
        #expect(try reopened.gateway.writer.store.anomalies().count == 1)
    }

    @Test func version1ReadingsAreTakenDuringTheTransitionAndRefusedAfterIt() async throws {
        let clock = TestClock()
        let cutoff = clock.now + 60_000
        let h = try await Harness.make(
            config: ChainWriterConfig(readingVersions: ReadingVersionPolicy(acceptVersion1UntilMs: cutoff)),
            clock: clock
        )
        defer { h.close() }
        try await h.enroll(meter)
        let first = try reading(h, 1, for: nil)
        #expect(try await h.post([first, try reading(h, 2, for: nil)]).map(\.summary) == ["accepted", "accepted"])

        clock.advance(ms: 60_000)
        let late = try await h.post([try reading(h, 3, for: nil)])
        #expect(late.map(\.summary) == ["rejected:retired-reading-version"])
        #expect(late.first?.detail?.contains("2026-01-01T00:01:00Z") == true)
        // A version 1 reading the chain already holds is still acknowledged as a duplicate:
        // an agent resending it after a crash must not set it aside.
        #expect(try await h.post([first]).map(\.summary) == ["duplicate"])
        // The same reading signed again as version 2 for this gateway takes number 3.
        #expect(try await h.post([try reading(h, 3, for: id(of: h))]).map(\.summary) == ["accepted"])
    }

    @Test func aChainHoldingVersion1ReadingsResumesAndVerifiesAfterTheTransition() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.enroll(meter)
        #expect(try await h.post((1...3).map { try reading(h, $0, for: nil) }).allSatisfy { $0.status == .accepted })
        await h.gateway.writer.sealNow()
        h.close()

        clock.advance(ms: 3_600_000)
        let closed = ChainWriterConfig(readingVersions: ReadingVersionPolicy(acceptVersion1UntilMs: clock.now))
        let reopened = try await h.reopen(config: closed)
        defer { reopened.close() }
        #expect(
            try await reopened.post([try reading(reopened, 4, for: nil)]).map(\.summary) == [
                "rejected:retired-reading-version"
            ]
        )
        #expect(
            try await reopened.post([try reading(reopened, 4, for: id(of: reopened))]).map(\.summary) == [
                "accepted"
            ]
        )
    }

    @Test func theTransitionDateIsADateOrATimeWithAZone() {
        #expect(ReadingVersionPolicy.parseCutoff("2027-03-01") == ReadingVersionPolicy.defaultVersion1CutoffMs)
        #expect(ReadingVersionPolicy.parseCutoff("2027-03-01T00:00:00Z") == 1_803_859_200_000)
        #expect(ReadingVersionPolicy.parseCutoff("2027-03-01T01:00:00+01:00") == 1_803_859_200_000)
        #expect(ReadingVersionPolicy.parseCutoff("2027-3-1") == nil)
        #expect(ReadingVersionPolicy.parseCutoff("2027-03-01T00:00:00") == nil)
        #expect(ReadingVersionPolicy.parseCutoff("soon") == nil)
        #expect(ReadingVersionPolicy.format(ReadingVersionPolicy.defaultVersion1CutoffMs) == "2027-03-01T00:00:00Z")
    }
}

import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// The anomaly detector is pure: readings in, findings out, with its memory of what it
/// already reported.
@Suite("Anomaly detector, in memory")
struct AnomalyDetectorTests {
    let meter = TestKeys.meter.id
    let t = TestKeys.baseTime
    let evidence = Hash256.sha256([1, 2, 3])

    func reading(
        _ sequence: UInt64,
        at offsetMs: Int64,
        importWh: Int64,
        powerW: Int64 = 500,
        voltage: Int64 = 2300
    )
        throws -> Reading
    {
        try Reading(
            meter: meter,
            sequence: sequence,
            timestamp: t + offsetMs,
            values: [
                MeasuredValue(.energyImportWh, importWh), MeasuredValue(.activePowerW, powerW),
                MeasuredValue(.voltageL1dV, voltage),
            ]
        )
    }

    @Test func aCounterThatGoesBackIsARollback() throws {
        var detector = AnomalyDetector()
        let found = detector.readingAccepted(
            try reading(2, at: 1000, importWh: 90),
            previous: try reading(1, at: 0, importWh: 100),
            evidence: evidence
        )
        #expect(found.map(\.category) == [.counterRollback])
    }

    @Test func energyBeyondWhatThePowerExplainsIsImpossible() throws {
        var detector = AnomalyDetector()
        // 500 W for 1 h allows 2 × 500 Wh + 10 Wh.
        let plausible = detector.readingAccepted(
            try reading(2, at: 3_600_000, importWh: 100 + 1010),
            previous: try reading(1, at: 0, importWh: 100),
            evidence: evidence
        )
        #expect(plausible.isEmpty)
        let impossible = detector.readingAccepted(
            try reading(3, at: 3_600_000 + 1000, importWh: 100 + 1010 + 50),
            previous: try reading(2, at: 3_600_000, importWh: 100 + 1010),
            evidence: evidence
        )
        #expect(impossible.map(\.category) == [.impossibleDelta])
    }

    /// Issue 15, point 7: an EM24 counts export in 100 Wh steps; at low power one step in a
    /// second is its rounding, which a version 3 reading's stated resolution explains.
    @Test func oneStepOfTheStatedCounterResolutionIsHonest() throws {
        func em24(_ sequence: UInt64, at offsetMs: Int64, exportWh: Int64, resolution: Int64?) throws -> Reading {
            var values = [MeasuredValue(.energyExportWh, exportWh), MeasuredValue(.activePowerW, -300)]
            if let resolution { values.append(MeasuredValue(.energyExportResolutionWh, resolution)) }
            return try Reading(
                meter: meter,
                gateway: TestKeys.gateway.id,
                sequence: sequence,
                timestamp: t + offsetMs,
                values: values
            )
        }
        var detector = AnomalyDetector()
        let stated = detector.readingAccepted(
            try em24(2, at: 1000, exportWh: 5100, resolution: 100),
            previous: try em24(1, at: 0, exportWh: 5000, resolution: 100),
            evidence: evidence
        )
        #expect(stated.isEmpty, "\(stated.map(\.detail))")
        // Two steps in a second at 300 W is still impossible.
        let twoSteps = detector.readingAccepted(
            try em24(3, at: 2000, exportWh: 5300, resolution: 100),
            previous: try em24(2, at: 1000, exportWh: 5100, resolution: 100),
            evidence: evidence
        )
        #expect(twoSteps.map(\.category) == [.impossibleDelta])
        #expect(twoSteps.first?.detail.contains("one 100 Wh counter step included") == true)
        // Without a stated resolution (version 2), the same step is flagged, as before.
        let unstated = detector.readingAccepted(
            try em24(2, at: 1000, exportWh: 5100, resolution: nil),
            previous: try em24(1, at: 0, exportWh: 5000, resolution: nil),
            evidence: evidence
        )
        #expect(unstated.map(\.category) == [.impossibleDelta])
    }

    @Test func aVoltageOutOfRangeIsReportedOnceUntilItRecovers() throws {
        var detector = AnomalyDetector()
        let low = try reading(1, at: 0, importWh: 1, voltage: 1900)
        #expect(detector.readingAccepted(low, previous: nil, evidence: evidence).map(\.category) == [.voltage])
        #expect(detector.readingAccepted(low, previous: nil, evidence: evidence).isEmpty)
        _ = detector.readingAccepted(try reading(2, at: 1, importWh: 1), previous: nil, evidence: evidence)
        #expect(detector.readingAccepted(low, previous: nil, evidence: evidence).map(\.category) == [.voltage])
    }

    @Test func badSignaturesAreEvidenceOnlyAtTheThresholdWithinTheWindow() {
        var detector = AnomalyDetector()
        #expect(detector.badSignature(meter: meter, at: 0, evidence: evidence) == nil)
        #expect(detector.badSignature(meter: meter, at: 1, evidence: evidence) == nil)
        #expect(detector.badSignature(meter: meter, at: 2, evidence: evidence)?.category == .repeatedBadSignatures)
        // The window (60 s) has passed for the first two: one more is not enough.
        #expect(detector.badSignature(meter: meter, at: 100_000, evidence: evidence) == nil)
    }

    @Test func aGapIsReportedOncePerPositionAndRememberedFromTheChain() throws {
        var detector = AnomalyDetector()
        let gap = detector.sequenceGap(meter: meter, expected: 4, found: 9, evidence: evidence)
        let finding = try #require(gap)
        #expect(finding.detail == "expected 4, got 9 (readings 4…8 are missing)")
        #expect(detector.sequenceGap(meter: meter, expected: 4, found: 10, evidence: evidence) == nil)

        var restarted = AnomalyDetector()
        restarted.remember(
            try Anomaly(
                kind: finding.kind,
                subject: meter,
                evidenceHash: evidence,
                timestamp: t,
                detail: finding.chainDetail
            )
        )
        #expect(restarted.sequenceGap(meter: meter, expected: 4, found: 11, evidence: evidence) == nil)
    }
}

extension AnomalyDetectorTests {
    /// Values a chain written before the gateway's value checks may hold: no trap.
    @Test func extremeTimesAndCountersAreComparedWithoutOverflow() throws {
        var detector = AnomalyDetector()
        let before = try Reading(
            meter: meter,
            sequence: 1,
            timestamp: .min + 1,
            values: [MeasuredValue(.energyImportWh, .min), MeasuredValue(.activePowerW, .min)]
        )
        let after = try Reading(
            meter: meter,
            sequence: 2,
            timestamp: .max,
            values: [MeasuredValue(.energyImportWh, .max), MeasuredValue(.activePowerW, .max)]
        )
        let found = detector.readingAccepted(after, previous: before, evidence: evidence)
        #expect(found.isEmpty, "the largest power over the longest interval explains any rise")
        let back = detector.readingAccepted(before, previous: after, evidence: evidence)
        #expect(back.map(\.category).contains(.counterRollback))
    }
}

extension AnomalyDetectorTests {
    /// Anyone can send records that name an enrolled meter: a flood of bad signatures adds
    /// one anomaly per window, whose successor counts what came in between.
    @Test func aFloodOfBadSignaturesIsOneAnomalyPerWindowWithACount() {
        var detector = AnomalyDetector()
        let found = (0..<999).compactMap { detector.badSignature(meter: meter, at: Int64($0), evidence: evidence) }
        #expect(found.count == 1)
        #expect(found.first?.detail.hasPrefix("3 records") == true)
        let next = detector.badSignature(meter: meter, at: 60_002, evidence: evidence)
        #expect(next?.detail.hasPrefix("997 records") == true, "\(String(describing: next?.detail))")
        #expect(detector.badSignature(meter: meter, at: 60_003, evidence: evidence) == nil)
        #expect((detector.badSignatures[meter]?.recent.count ?? 0) <= detector.limits.badSignatureThreshold)
    }
}

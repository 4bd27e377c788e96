import Crypto
import Foundation
import TestSupport
import Testing

@testable import AgentCore
@testable import LedgerLite

/// The agent's OCMF documents: one per settlement period, aligned to UTC, gap-free
/// pagination that survives a restart.
@Suite("OCMF recorder")
struct OCMFRecorderTests {
    let t = TestKeys.baseTime
    let meter = TestKeys.meter
    let gateway = TestKeys.gateway.id
    let quarter: Int64 = 900_000

    func point(_ time: Int64, _ importWh: Int64) -> OCMFPoint {
        OCMFPoint(time: time, importWh: importWh, exportWh: nil, status: "G")
    }

    func reading(_ sequence: UInt64, at time: Int64, importWh: Int64, exportWh: Int64 = 7) throws -> Reading {
        try Reading(
            meter: meter.id,
            gateway: gateway,
            sequence: sequence,
            timestamp: time,
            values: [MeasuredValue(.energyImportWh, importWh), MeasuredValue(.energyExportWh, exportWh)]
        )
    }

    @Test func aPeriodEndsWithTheFirstReadingOfALaterOneAndTheNextBeginsAtItsLastCounter() {
        var open: OCMFPeriod?
        var finished: [FinishedOCMFPeriod] = []
        for p in [point(t + 5_000, 100), point(t + 600_000, 150), point(t + 899_999, 180), point(t + quarter, 181)] {
            let step = OCMFPeriod.observe(p, open: open, length: quarter)
            open = step.open
            if let f = step.finished { finished.append(f) }
        }
        #expect(
            finished == [
                FinishedOCMFPeriod(
                    start: t,
                    end: t + quarter,
                    begin: point(t + 5_000, 100),
                    last: point(t + 899_999, 180)
                )
            ]
        )
        // The boundary reading belongs to the new period, which begins at the last counter before it.
        #expect(open == OCMFPeriod(start: t + quarter, begin: point(t + 899_999, 180), last: point(t + quarter, 181)))
    }

    @Test func aPeriodAfterAnOutageBeginsAtItsOwnFirstReadingAndEmptyPeriodsHaveNoDocument() {
        var open: OCMFPeriod? = OCMFPeriod(start: t, begin: point(t, 100), last: point(t + 10, 101))
        let step = OCMFPeriod.observe(point(t + 3 * quarter + 7, 400), open: open, length: quarter)
        #expect(step.finished?.start == t && step.finished?.end == t + quarter)
        #expect(
            step.open
                == OCMFPeriod(
                    start: t + 3 * quarter,
                    begin: point(t + 3 * quarter + 7, 400),
                    last: point(t + 3 * quarter + 7, 400)
                )
        )
        open = step.open
        let back = OCMFPeriod.observe(point(t + 3 * quarter, 399), open: open, length: quarter)
        #expect(back.open == open && back.finished == nil, "a reading older than the period's last is ignored")
    }

    @Test func documentsAreGapFreeAcrossRestartsAndVerifyAgainstTheirCommitments() async throws {
        let directory = makeTempDir(prefix: "gl-ocmf")
        let recorder = OCMFRecorder(key: TestKeys.ocmf, periodMs: quarter)
        var commitments: [OCMFCommitment] = []
        var sequence: UInt64 = 0
        // Three periods' readings, the agent restarted (its outbox reopened) in the middle of the second.
        for (run, times) in [
            [t + 1_000, t + 450_000, t + quarter + 10], [t + quarter + 500_000, t + 2 * quarter, t + 3 * quarter + 1],
        ]
        .enumerated() {
            let outbox = try Outbox(directory: directory, capacity: 100)
            for time in times {
                sequence += 1
                let r = try reading(sequence, at: time, importWh: 1000 + Int64(sequence) * 10)
                if let stored = try await recorder.record(r, meter: meter, gateway: gateway, outbox: outbox),
                    case .ocmfCommitment(let c) = stored.record
                {
                    commitments.append(c)
                }
            }
            #expect(try await outbox.lastOCMFPagination(of: meter.id) == [1, 3][run])
        }
        #expect(commitments.map(\.pagination) == [1, 2, 3])
        #expect(commitments.map(\.periodStart) == [t, t + quarter, t + 2 * quarter])

        let outbox = try Outbox(directory: directory, capacity: 100)
        let queued = try await outbox.oldestOCMF(limit: 10)
        #expect(queued.map(\.pagination) == [1, 2, 3])
        var previousEnd: Int64?
        for (item, c) in zip(queued, commitments) {
            let entry = try SignedRecord(bytes: item.bytes)
            #expect(entry.isSignatureValid(by: meter.publicIdentity))
            let document = try OCMFDocument(parsing: item.ocmf)
            #expect(document.mismatch(with: c) == nil)
            let imports = document.payload.readings.filter { $0.register == OCMFReading.importRegister }
            #expect(imports.map(\.transaction) == ["B", "E"])
            #expect(document.payload.readings.filter { $0.register == OCMFReading.exportRegister }.count == 2)
            // Consecutive periods share the boundary counter: no energy falls between documents.
            if let previousEnd { #expect(imports[0].valueWh == previousEnd) }
            previousEnd = imports[1].valueWh
        }
        try await outbox.acknowledgeOCMF(queued.map(\.id))
        #expect(try await outbox.pendingOCMFCount() == 0)
    }

    @Test func aReadingWithoutAnImportRegisterMakesNoDocument() throws {
        let r = try Reading(
            meter: meter.id,
            gateway: gateway,
            sequence: 1,
            timestamp: t,
            values: [MeasuredValue(.activePowerW, 5)]
        )
        #expect(OCMFRecorder.point(of: r) == nil)
    }
}

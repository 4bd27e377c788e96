import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import OperatorKit

@Suite("Anomalies on the chain")
struct AnomalyTests {
    /// Posts readings, seals, and returns the categories of the anomalies on the chain.
    func categories(_ h: Harness) async throws -> [String] {
        await h.gateway.writer.sealNow()
        return try h.gateway.writer.store.anomalies().compactMap { e -> String? in
            guard case let .anomaly(a) = e.entry.record else { return nil }
            return AnomalyCategory.parse(detail: a.detail)?.rawValue
        }
    }

    @Test func counterRollback() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        let results = try await h.post([
            try h.reading(m, 1, at: 0, importWh: 5000), try h.reading(m, 2, at: 1000, importWh: 4000),
        ])
        #expect(results.map(\.summary) == ["accepted", "accepted"])  // signed and in sequence: kept, with evidence
        #expect(try await categories(h) == ["counter-rollback"])
        guard case let .anomaly(a)? = try h.gateway.writer.store.anomalies().first?.entry.record else { return }
        #expect(a.kind == .implausibleValue)
        #expect(a.subject == m.id)
        #expect(a.detail.contains("from 5000 to 4000"))
        #expect(
            h.logs.all.contains {
                $0.contains("anomaly recorded") && $0.contains("meter.id=\(m.id.hex)")
                    && $0.contains("counter-rollback")
            }
        )
    }

    @Test func impossibleEnergyDelta() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        // 1 kW for 60 s is about 17 Wh; 20 Wh is within tolerance, 5000 Wh is not.
        _ = try await h.post([
            try h.reading(m, 1, at: 0, importWh: 1000, powerW: 1000),
            try h.reading(m, 2, at: 60_000, importWh: 1020, powerW: 1000),
            try h.reading(m, 3, at: 120_000, importWh: 6020, powerW: 1000),
        ])
        #expect(try await categories(h) == ["impossible-energy-delta"])
    }

    @Test func voltageOutsideEN50160OncePerExcursion() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        _ = try await h.post([
            try h.reading(m, 1, at: 0, voltage: 2070),  // 207.0 V: the limit itself is fine
            try h.reading(m, 2, at: 1000, voltage: 1610),  // sag
            try h.reading(m, 3, at: 2000, voltage: 1600),  // still low: same excursion
            try h.reading(m, 4, at: 3000, voltage: 2300),
            try h.reading(m, 5, at: 4000, voltage: 2540),  // swell: a new one
        ])
        #expect(try await categories(h) == ["voltage-out-of-range", "voltage-out-of-range"])
    }

    @Test func tamperFlagOncePerRaise() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        _ = try await h.post([
            try h.reading(m, 1, at: 0, status: .tamper),
            try h.reading(m, 2, at: 1000, status: .tamper),
            try h.reading(m, 3, at: 2000),
        ])
        #expect(try await categories(h) == ["tamper-flag"])
        guard case let .anomaly(a)? = try h.gateway.writer.store.anomalies().first?.entry.record else { return }
        #expect(a.kind == .tamperFlag)
    }

    /// Records naming an enrolled meter need no key to send: 999 of them with broken
    /// signatures in one request add one anomaly, not one per three.
    @Test func aFloodOfBadSignaturesAddsOneAnomaly() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        let forged = try (1...999).map { seq -> SignedRecord in
            var bytes = try h.reading(m, UInt64(seq)).bytes
            bytes[bytes.count - 1] ^= 0x80
            return try SignedRecord(bytes: bytes)
        }
        let results = try await h.post(forged)
        #expect(Set(results.map(\.summary)) == ["rejected:bad-signature"])
        #expect(try await categories(h) == ["repeated-bad-signatures"])
    }

    @Test func repeatedBadSignatures() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        func forged(_ seq: UInt64) throws -> SignedRecord {
            var bytes = try h.reading(m, seq).bytes
            bytes[bytes.count - 1] ^= 0x80
            return try SignedRecord(bytes: bytes)
        }
        #expect(
            try await h.post([try forged(1), try forged(1)]).map(\.summary) == [
                "rejected:bad-signature", "rejected:bad-signature",
            ]
        )
        #expect(try await categories(h) == [])
        _ = try await h.post([try forged(2)])
        #expect(try await categories(h) == ["repeated-bad-signatures"])
        guard case let .anomaly(a)? = try h.gateway.writer.store.anomalies().first?.entry.record else { return }
        #expect(a.kind == .badSignature)
        #expect(a.subject == m.id)
    }

    @Test func rejectionsAreLoggedWithMeterAndReasonAndRateLimited() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let stranger = SigningIdentity()
        for _ in 0..<5 { _ = try await h.post([try h.reading(stranger, 1)]) }
        let lines = h.logs.all.filter { $0.contains("rejected record") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("meter.id=\(stranger.id.hex)") == true)
        #expect(lines.first?.contains("reason=unknown-meter") == true)
    }

    @Test func rateLimitedLogSummarisesRepeats() {
        let capture = LogCapture()
        let start = ContinuousClock.now
        let offset = Mutex<Duration>(.zero)
        let log = RateLimitedLog(
            logger: capture.logger,
            interval: .seconds(10),
            now: { start + offset.withLock { $0 } }
        )
        for _ in 0..<58 { log.log(.warning, key: "m1|bad-signature", "rejected record", metadata: ["meter.id": "m1"]) }
        log.log(.warning, key: "m2|bad-signature", "rejected record", metadata: ["meter.id": "m2"])
        #expect(capture.all.count == 2)
        log.flush()
        #expect(capture.all.count == 2)  // window not over yet
        offset.withLock { $0 = .seconds(11) }
        log.flush()
        #expect(capture.all.count == 3)
        #expect(capture.all.last?.contains("rejected record (repeated 57 times in the last 10s)") == true)
        #expect(capture.all.last?.contains("meter.id=m1") == true)
        log.log(.warning, key: "m1|bad-signature", "rejected record", metadata: ["meter.id": "m1"])
        #expect(capture.all.count == 4)
    }
}

import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

@testable import GatewayCore

/// Validly signed records with extreme values: each is refused with a named reason or
/// accepted, and the gateway keeps running. Before these checks, each of them trapped on
/// Int64 overflow in the chain writer (a crash one meter key could cause, every time).
@Suite("Hostile values in signed records")
struct HostileValueTests {
    func signedReading(
        _ meter: SigningIdentity,
        _ sequence: UInt64,
        at timestamp: Int64,
        importWh: Int64 = 1
    ) throws -> SignedRecord {
        let r = try Reading(
            meter: meter.id,
            sequence: sequence,
            timestamp: timestamp,
            values: [MeasuredValue(.energyImportWh, importWh), MeasuredValue(.activePowerW, 500)]
        )
        return try SignedRecord.sign(.reading(r), with: meter)
    }

    @Test(arguments: [Int64.min, Int64.min + 1, -1, 0, ClockPolicy.earliestMs - 1, Int64.max])
    func aReadingFromAnImpossibleTimeIsRefusedAsSkew(timestamp: Int64) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let results = try await h.post([try signedReading(meter, 1, at: timestamp)])
        #expect(results.map(\.summary) == ["rejected:timestamp-skew"])
        #expect(try await h.post([try h.reading(meter, 1)]).map(\.summary) == ["accepted"])
    }

    @Test(arguments: [Int64.min, -1])
    func aNegativeEnergyCounterIsImplausible(importWh: Int64) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let results = try await h.post([try h.reading(meter, 1, importWh: importWh)])
        #expect(results.map(\.summary) == ["rejected:implausible-value"])
        #expect(results.first?.detail?.contains("never negative") == true)
    }

    @Test func aCounterJumpToTheLargestValueIsAnImpossibleDelta() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let results = try await h.post([
            try h.reading(meter, 1, importWh: 0), try h.reading(meter, 2, at: 1, importWh: .max),
        ])
        #expect(results.map(\.summary) == ["accepted", "accepted"])
        await h.gateway.writer.sealNow()
        let anomalies = try h.gateway.writer.store.entries(ofType: .anomaly, fromIndex: 0, limit: 10)
        #expect(anomalies.contains { "\($0.entry.record)".contains("impossible") })
    }

    /// A chain written before these checks may already hold a reading from an impossible
    /// time; the meter's next readings are compared with it without overflowing.
    @Test func aChainThatAlreadyHoldsAnExtremeReadingKeepsServingItsMeter() async throws {
        var chain = try TradeChain()
        let meter = SigningIdentity()
        try chain.enroll(meter, .consumer)
        try chain.add(try signedReading(meter, 1, at: Int64.min + 1, importWh: Int64.min))
        try chain.seal()
        let h = try await chain.open()
        defer { h.close() }
        let results = try await h.post([try h.reading(meter, 2, importWh: 5)])
        #expect(results.map(\.summary) == ["accepted"])
        let stale = try await h.post([try signedReading(meter, 3, at: Int64.max)])
        #expect(stale.map(\.summary) == ["rejected:timestamp-skew"])
    }

    @Test(arguments: [Int64.min, Int64.max])
    func aRequestFromAnImpossibleTimeIsRefusedAsSkew(timestamp: Int64) async throws {
        let h = try await Harness.make(config: ChainWriterConfig(trading: TradingPolicy()))
        defer { h.close() }
        let consumer = SigningIdentity()
        try await h.enroll(consumer)
        let request = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 1, energyWh: 10, timestamp: timestamp)),
            with: consumer
        )
        let answer = try await h.trade(
            "/v1/requests",
            request,
            as: DispatchResponse.self,
            status: .unprocessableContent
        )
        #expect(answer.reason == .timestampSkew)
    }

    @Test func theRequestWindowIsTheSkewEitherWay() {
        let policy = ClockPolicy(maxSkewMs: 300_000)
        let now = TestKeys.baseTime
        for time in [Int64.min, Int64.min + 1, -1, Int64.max] {
            #expect(policy.refusal(ofRequestAt: time, now: now) != nil, "\(time)")
        }
        #expect(policy.refusal(ofRequestAt: now + 300_000, now: now) == nil)
        #expect(policy.refusal(ofRequestAt: now - 300_000, now: now) == nil)
        #expect(policy.refusal(ofRequestAt: now - 300_001, now: now) != nil)
    }

    @Test func saturatingMinusHoldsAtTheBounds() {
        #expect(Int64.min.saturatingMinus(1) == .min)
        #expect(Int64.max.saturatingMinus(-1) == .max)
        #expect(Int64.max.saturatingMinus(Int64.min) == .max)
        #expect(Int64.min.saturatingMinus(Int64.max) == .min)
        #expect(Int64(5).saturatingMinus(7) == -2)
    }
}

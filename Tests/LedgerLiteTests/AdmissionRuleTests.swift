import TestSupport
import Testing

@testable import LedgerLite

/// `ChainState.admit(_:)` is the chain's admission rule: what a gateway asks before its own
/// policies, and exactly what `apply` (the builder's and the verifier's replay) checks first.
@Suite("Admission rules, decided once")
struct AdmissionRuleTests {
    let gateway = TestKeys.gateway
    let producer = TestKeys.producer
    let consumer = TestKeys.consumer
    let stranger = TestKeys.key(0x44)
    let t = TestKeys.baseTime

    func reading(_ meter: SigningIdentity, _ sequence: UInt64) throws -> SignedRecord {
        meter.signed(
            .reading(
                try Reading(
                    meter: meter.id,
                    sequence: sequence,
                    timestamp: t,
                    values: [MeasuredValue(.activePowerW, 1)]
                )
            )
        )
    }

    func offer(_ meter: SigningIdentity, _ sequence: UInt64) throws -> SignedRecord {
        meter.signed(
            .offer(
                try Offer(producer: meter.id, sequence: sequence, energyWh: 10, validFrom: t - 1000, validUntil: t)
            )
        )
    }

    func request(_ meter: SigningIdentity, _ sequence: UInt64) throws -> SignedRecord {
        meter.signed(.request(try EnergyRequest(consumer: meter.id, sequence: sequence, energyWh: 10, timestamp: t)))
    }

    /// A chain with an enrolled producer and consumer, a reading and an offer of the producer,
    /// a request of the consumer, and a revoked meter.
    func state() throws -> ChainState {
        var state = ChainState(gatewayKey: gateway.publicIdentity)
        let revoked = TestKeys.key(0x55)
        for entry in [
            gateway.signed(.enrollment(Enrollment(meterKey: producer.publicIdentity, role: .producer, timestamp: t))),
            gateway.signed(.enrollment(Enrollment(meterKey: consumer.publicIdentity, role: .consumer, timestamp: t))),
            gateway.signed(.enrollment(Enrollment(meterKey: revoked.publicIdentity, role: .consumer, timestamp: t))),
            gateway.signed(.revocation(Revocation(meterKey: revoked.publicIdentity, role: .consumer, timestamp: t))),
            try reading(producer, 1),
            try offer(producer, 5),
            try request(consumer, 7),
        ] {
            try state.apply(entry)
        }
        return state
    }

    @Test func everyRefusalOfAdmitIsTheRefusalOfApply() throws {
        let hostile: [(SignedRecord, RuleViolation)] = [
            (try reading(producer, 3), .sequenceGap(producer.id, expected: 2, found: 3)),
            (try reading(producer, 1), .sequenceReplay(producer.id, expected: 2, found: 1)),
            (try reading(stranger, 1), .unknownSigner(stranger.id)),
            (try reading(TestKeys.key(0x55), 1), .tnt(.revoked(TestKeys.key(0x55).id))),
            (try offer(producer, 5), .sequenceNotIncreasing(producer.id, type: .offer, last: 5, found: 5)),
            (try offer(consumer, 1), .tnt(.wrongRole(consumer.id, has: .consumer, needs: .producer))),
            (try request(consumer, 6), .sequenceNotIncreasing(consumer.id, type: .request, last: 7, found: 6)),
            (try request(producer, 1), .tnt(.wrongRole(producer.id, has: .producer, needs: .consumer))),
        ]
        for (entry, violation) in hostile {
            let state = try state()
            #expect(throws: violation) { _ = try state.admit(entry) }
            var applied = state
            #expect(throws: violation) { try applied.apply(entry) }
        }
    }

    @Test func whatAdmitLetsThroughApplies() throws {
        for entry in [try reading(producer, 2), try offer(producer, 6), try request(consumer, 8)] {
            var state = try state()
            #expect(try state.admit(entry) == state.key(of: entry.signer))
            try state.apply(entry)
        }
    }
}

import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite

/// Energy trading by TNT (issue 6): the policy record, value verification of offers against
/// metered export, the split policy, and served/credited totals.
@Suite struct TradingTests {
    typealias T = TNTTests

    // MARK: the worked example

    /// Water 1000 Wh, wind 6000 Wh, solar 900 Wh with TNT 1, 2, 3, built by records through
    /// the block builder (ChainState): a 600 Wh request goes to water (TNT 2, 400 Wh left),
    /// the next 600 Wh to wind. Then, under the split policy, 7000 Wh is unserved (only
    /// 6700 Wh are available in total) and 6000 Wh is split in TNT order.
    @Test func workedExample() throws {
        var f = ChainFixture(maxEntries: 7, consumers: 1, producers: 3)
        let (water, wind, solar) = (f.producers[0], f.producers[1], f.producers[2])
        let consumer = f.consumers[0]
        try f.enrollAll()
        func status(_ p: SigningIdentity) -> MeterStatus? { f.builder.state.tnt.status(of: p.id) }
        func served(_ entry: SignedRecord) -> DispatchOutcome? {
            if case let .dispatch(d) = entry.record { d.outcome } else { nil }
        }

        // Only the producer that has energy can serve, so TNTs are built one producer at a time.
        try f.offer(solar, 3 * 100 + 900)
        for _ in 0..<3 { try f.request(consumer, 100) }
        try f.offer(wind, 2 * 100 + 6000)
        for _ in 0..<2 { try f.request(consumer, 100) }  // wind has TNT 0, solar TNT 3
        try f.offer(water, 100 + 1000)
        try f.request(consumer, 100)  // water has TNT 0
        #expect(status(water)?.availableWh == 1000 && status(water)?.tnt == 1)
        #expect(status(wind)?.availableWh == 6000 && status(wind)?.tnt == 2)
        #expect(status(solar)?.availableWh == 900 && status(solar)?.tnt == 3)

        let first = try f.request(consumer, 600)
        #expect(served(first) == .served(producer: water.id, energyWh: 600, producerTNTBefore: 1))
        #expect(
            status(water)
                == MeterStatus(
                    role: .producer,
                    active: true,
                    availableWh: 400,
                    tnt: 2,
                    servedWh: 700,
                    exportedWh: 1100,
                    creditedWh: 1100
                )
        )
        let second = try f.request(consumer, 600)
        #expect(served(second) == .served(producer: wind.id, energyWh: 600, producerTNTBefore: 2))
        #expect(status(wind)?.availableWh == 5400 && status(wind)?.tnt == 3)

        // The split policy: no partial service when the total cannot cover it.
        try f.addGateway(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 0, timestamp: f.time)))
        #expect(f.builder.state.tnt.policy == .splitTNT)
        let tooMuch = try f.request(consumer, 7000)
        #expect(served(tooMuch) == .unserved)
        let split = try f.request(consumer, 6000)
        // TNT order: water (TNT 2), then wind and solar (both TNT 3) by id.
        let windFirst = wind.id < solar.id
        let expected: [DispatchShare] =
            windFirst
            ? [
                DispatchShare(producer: water.id, energyWh: 400, tntBefore: 2),
                DispatchShare(producer: wind.id, energyWh: 5400, tntBefore: 3),
                DispatchShare(producer: solar.id, energyWh: 200, tntBefore: 3),
            ]
            : [
                DispatchShare(producer: water.id, energyWh: 400, tntBefore: 2),
                DispatchShare(producer: solar.id, energyWh: 900, tntBefore: 3),
                DispatchShare(producer: wind.id, energyWh: 4700, tntBefore: 3),
            ]
        #expect(served(split) == .split(expected))
        if case let .dispatch(d) = split.record { #expect(d.policy == .splitTNT) }
        #expect(status(water)?.tnt == 3 && status(wind)?.tnt == 4 && status(solar)?.tnt == 4)
        #expect(status(water)?.availableWh == 0)
        #expect((status(wind)?.availableWh ?? 0) + (status(solar)?.availableWh ?? 0) == 700)
        // A request one producer covers is decided exactly as under the plain rule.
        let single = try f.request(consumer, 100)
        let remaining = [wind, solar].filter { (status($0)?.availableWh ?? 0) >= 100 }
            .min { ($0.id) < ($1.id) }
        #expect(
            served(single).map { if case let .served(p, 100, 4) = $0 { p == remaining?.id } else { false } } == true
        )

        // Served + available = credited for every producer; the chain verifies.
        for p in f.producers {
            let s = try #require(status(p))
            #expect(s.servedWh + s.availableWh == s.creditedWh)
        }
        try f.finish()
        let verified = try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: f.blocks)
        #expect(verified.state.tnt.digest() == f.builder.state.tnt.digest())
        #expect(verified.state.tnt.policy == .splitTNT)
        let table = verified.state.tnt.producerTable()
        #expect(table.map(\.status.tnt) == table.map(\.status.tnt).sorted())
        #expect(Set(table.map(\.meter)) == Set(f.producers.map(\.id)))
        #expect(verified.state.tnt.producerTable(orderedBy: .id).map(\.meter) == f.producers.map(\.id).sorted())
    }

    // MARK: value verification

    @Test func offersAreCutToMeteredExportPlusTolerance() throws {
        var state = TNTState()
        let p = T.key(1)
        let c = T.key(2)
        try state.apply(.enrollment(Enrollment(meterKey: p, role: .producer, timestamp: 0)))
        try state.apply(.enrollment(Enrollment(meterKey: c, role: .consumer, timestamp: 0)))
        func offer(_ wh: UInt64, _ seq: UInt64) throws -> Offer {
            try Offer(producer: p.id, sequence: seq, energyWh: wh, validFrom: 0, validUntil: 1)
        }
        func reading(_ counter: Int64, _ seq: UInt64 = 1) throws {
            try state.apply(
                .reading(
                    Reading(
                        meter: p.id,
                        sequence: seq,
                        timestamp: 0,
                        values: [
                            MeasuredValue(.energyImportWh, 5), MeasuredValue(.energyExportWh, counter),
                        ]
                    )
                )
            )
        }

        // No reading yet, tolerance 0: nothing is credited, yet the offer is a valid record.
        let none = try state.credit(for: offer(100, 1))
        #expect(
            none == OfferCredit(offeredWh: 100, creditedWh: 0, exportedWh: 0, toleranceWh: 0, previouslyCreditedWh: 0)
        )
        #expect(none.cutWh == 100 && none.isCut)
        try state.apply(.offer(offer(100, 1)))
        #expect(state.status(of: p.id)?.availableWh == 0)

        // The first reading is the baseline; metered export counts from there.
        try reading(10_000)
        #expect(state.status(of: p.id)?.exportedWh == 0)
        try reading(10_500)
        #expect(state.status(of: p.id)?.exportedWh == 500)
        let cut = try state.credit(for: offer(800, 2))
        #expect(cut.creditedWh == 500 && cut.cutWh == 300)
        try state.apply(.offer(offer(800, 2)))
        #expect(
            state.status(of: p.id)
                == MeterStatus(
                    role: .producer,
                    active: true,
                    availableWh: 500,
                    tnt: 0,
                    servedWh: 0,
                    exportedWh: 500,
                    creditedWh: 500
                )
        )

        // A tolerance from the chain's policy record adds slack, once.
        try state.apply(.policy(PolicyRecord(policy: .lowestTNT, offerToleranceWh: 200, timestamp: 0)))
        #expect(state.offerToleranceWh == 200)
        #expect(try state.credit(for: offer(300, 3)).creditedWh == 200)
        try state.apply(.offer(offer(300, 3)))
        #expect(try state.credit(for: offer(1, 4)).creditedWh == 0)

        // A counter going backwards (meter reset, rollback) never reduces metered export…
        try reading(100)
        #expect(state.status(of: p.id)?.exportedWh == 500)
        #expect(try state.credit(for: offer(10, 4)).creditedWh == 0)
        // …and only export above the highest counter seen counts again.
        try reading(10_400)
        #expect(state.status(of: p.id)?.exportedWh == 500)
        try reading(10_600)
        #expect(state.status(of: p.id)?.exportedWh == 600)
        #expect(
            try state.credit(for: offer(500, 4))
                == OfferCredit(
                    offeredWh: 500,
                    creditedWh: 100,
                    exportedWh: 600,
                    toleranceWh: 200,
                    previouslyCreditedWh: 700
                )
        )

        // Lowering the tolerance below what was credited credits nothing (never negative).
        try state.apply(.policy(PolicyRecord(policy: .lowestTNT, offerToleranceWh: 0, timestamp: 0)))
        #expect(try state.credit(for: offer(500, 4)).creditedWh == 0)

        // Readings without an export counter, and consumers' readings, change nothing.
        let before = state.digest()
        try state.apply(
            .reading(Reading(meter: p.id, sequence: 9, timestamp: 0, values: [MeasuredValue(.energyImportWh, 99_999)]))
        )
        try state.apply(
            .reading(Reading(meter: c.id, sequence: 1, timestamp: 0, values: [MeasuredValue(.energyExportWh, 99_999)]))
        )
        #expect(state.digest() == before)
        #expect(state.status(of: c.id)?.exportedWh == 0)

        // Only an active producer can be credited.
        #expect(throws: TNTError.wrongRole(c.id, has: .consumer, needs: .producer)) {
            try state.credit(for: Offer(producer: c.id, sequence: 1, energyWh: 1, validFrom: 0, validUntil: 1))
        }
        #expect(throws: TNTError.notEnrolled(T.key(3).id)) {
            try state.credit(for: Offer(producer: T.key(3).id, sequence: 1, energyWh: 1, validFrom: 0, validUntil: 1))
        }
    }

    @Test func hugeCountersAndToleranceSaturate() throws {
        var state = TNTState()
        let p = T.key(1)
        try state.apply(.enrollment(Enrollment(meterKey: p, role: .producer, timestamp: 0)))
        try state.apply(
            .reading(Reading(meter: p.id, sequence: 1, timestamp: 0, values: [MeasuredValue(.energyExportWh, .min)]))
        )
        try state.apply(
            .reading(Reading(meter: p.id, sequence: 2, timestamp: 0, values: [MeasuredValue(.energyExportWh, .max)]))
        )
        #expect(state.status(of: p.id)?.exportedWh == .max)
        try state.apply(.policy(PolicyRecord(policy: .lowestTNT, offerToleranceWh: .max, timestamp: 0)))
        let offer = try Offer(producer: p.id, sequence: 1, energyWh: .max, validFrom: 0, validUntil: 1)
        #expect(try state.credit(for: offer).creditedWh == .max)
        try state.apply(.offer(offer))
        let more = try Offer(producer: p.id, sequence: 2, energyWh: 5, validFrom: 0, validUntil: 1)
        #expect(try state.credit(for: more).creditedWh == 0)
        try state.apply(.offer(more))  // credits 0: no overflow
        #expect(state.status(of: p.id)?.availableWh == .max)
    }

    /// On the chain: an offer credited 0 is recorded (its sequence is used), the producer's
    /// readings drive the credit, and a meter cannot sign a policy record.
    @Test func chainRecordsCutOffersAndOnlyTheGatewaySetsPolicy() throws {
        var f = ChainFixture(maxEntries: 100, consumers: 1, producers: 1)
        try f.enrollAll()
        let p = f.producers[0]
        try f.offerOnly(p, 500)  // no reading at all: credited 0, still on the chain
        #expect(f.builder.state.tnt.status(of: p.id)?.creditedWh == 0)
        try f.offer(p, 300)  // baseline reading, +300 Wh export, offer
        #expect(f.builder.state.tnt.status(of: p.id)?.availableWh == 300)
        let forged = p.signed(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 1_000_000, timestamp: 0)))
        #expect(
            throws: BuilderError.ruleViolation(
                .signerMismatch(signer: p.id, expected: TestKeys.gateway.id, type: .policy)
            )
        ) {
            _ = try f.builder.add(forged, at: f.time)
        }
        try f.finish()
        #expect(
            try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: f.blocks).state.tnt.digest()
                == f.builder.state.tnt.digest()
        )
    }

    // MARK: the split rule against the naive scan

    /// Random histories with policy changes: for both policies, every decision equals the
    /// naive scan; the chosen dispatch applies; served + available = credited throughout.
    @Test(arguments: [11, 12, 13, 14, 15, 16, 17, 18])
    func splitAndPlainMatchNaiveScanOnRandomHistories(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var state = TNTState()
        let producerCount = Int.random(in: 1...60, using: &rng)
        let producers = (0..<producerCount).map { T.key($0) }
        let consumer = T.key(10_000)
        try T.enroll(&state, consumer, .consumer)
        var active = Set<KeyID>()
        var enrolled = Set<KeyID>()
        var offerSeq: UInt64 = 0
        var requestSeq: UInt64 = 0
        var splits = 0
        for _ in 0..<800 {
            let p = producers[Int.random(in: 0..<producerCount, using: &rng)]
            switch Int.random(in: 0..<20, using: &rng) {
            case 0:
                let policy: DispatchPolicy = Bool.random(using: &rng) ? .lowestTNT : .splitTNT
                try state.apply(.policy(PolicyRecord(policy: policy, offerToleranceWh: 0, timestamp: 0)))
            case 1, 2:
                if active.contains(p.id) {
                    try state.apply(.revocation(Revocation(meterKey: p, role: .producer, timestamp: 0)))
                    active.remove(p.id)
                } else {
                    try T.enroll(&state, p, .producer)
                    active.insert(p.id)
                    enrolled.insert(p.id)
                }
            case 3...9:
                guard active.contains(p.id) else { continue }
                offerSeq += 1
                try T.offer(&state, p.id, UInt64.random(in: 1...50, using: &rng), seq: offerSeq)
            default:
                requestSeq += 1
                let wh = UInt64.random(in: 1...200, using: &rng)
                for policy in [DispatchPolicy.lowestTNT, .splitTNT] {
                    #expect(
                        state.decide(energyWh: wh, policy: policy) == state.naiveDecide(energyWh: wh, policy: policy)
                    )
                }
                let before = state.producerTable(orderedBy: .id)
                let outcome = try T.serve(&state, consumer.id, requestSeq, wh)
                if case let .split(shares) = outcome {
                    splits += 1
                    #expect(state.policy == .splitTNT)
                    #expect(shares.reduce(0) { $0 + $1.energyWh } == wh)
                    // Taken in (TNT, id) order; all but the last gave everything they had.
                    let pairs = shares.map { ($0.tntBefore, $0.producer) }
                    #expect(zip(pairs, pairs.dropFirst()).allSatisfy { $0 < $1 })
                    for share in shares.dropLast() {
                        #expect(before.first { $0.meter == share.producer }?.status.availableWh == share.energyWh)
                    }
                }
            }
        }
        for id in enrolled {
            let s = try #require(state.status(of: id))
            #expect(s.servedWh + s.availableWh == s.creditedWh)
            #expect(s.creditedWh == s.exportedWh)
        }
        #expect(splits > 0 || producerCount < 3, "seed \(seed) never split")
    }

    /// The split rule takes at most `Dispatch.maxShares` producers.
    @Test func splitTakesAtMostMaxSharesProducers() throws {
        var state = TNTState()
        try state.apply(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 0, timestamp: 0)))
        let consumer = T.key(10_000)
        try T.enroll(&state, consumer, .consumer)
        let producers = (0..<Dispatch.maxShares + 20).map { T.key($0) }
        for (i, p) in producers.enumerated() {
            try T.enroll(&state, p, .producer)
            try T.offer(&state, p.id, 10, seq: UInt64(i + 1))
        }
        let limit = UInt64(Dispatch.maxShares) * 10
        #expect(state.decide(energyWh: limit + 1) == .unserved)
        #expect(state.naiveDecide(energyWh: limit + 1) == .unserved)
        let outcome = state.decide(energyWh: limit)
        #expect(outcome == state.naiveDecide(energyWh: limit))
        #expect(outcome.shares.count == Dispatch.maxShares)
        #expect(try T.serve(&state, consumer.id, 1, limit) == outcome)
        // The 20 producers left out now have the lowest TNT and serve the next split.
        let next = try T.serve(&state, consumer.id, 2, 200)
        #expect(next.shares.allSatisfy { $0.tntBefore == 0 })
        #expect(next.shares.count == 20)
    }

    // MARK: dispatch checks in the TNT machine

    @Test func dispatchMustNameTheChainsPolicyAndFollowIt() throws {
        var state = TNTState()
        let a = T.key(1)
        let b = T.key(2)
        let c = T.key(3)
        try T.enroll(&state, a, .producer)
        try T.enroll(&state, b, .producer)
        try T.enroll(&state, c, .consumer)
        try T.offer(&state, a.id, 60)
        try T.offer(&state, b.id, 60, seq: 2)
        try state.apply(.request(EnergyRequest(consumer: c.id, sequence: 1, energyWh: 100, timestamp: 0)))
        let ref = RequestReference(consumer: c.id, sequence: 1)

        // Plain rule: nobody has 100 Wh; a split is not what the chain's policy allows.
        let shares = state.naiveDecide(energyWh: 100, policy: .splitTNT)
        #expect(shares.shares.count == 2)
        #expect(throws: TNTError.policyMismatch(ref, chain: .lowestTNT, recorded: .splitTNT)) {
            try state.apply(.dispatch(Dispatch(request: ref, policy: .splitTNT, outcome: shares)))
        }
        #expect(try state.dispatch(for: ref) == Dispatch(request: ref, policy: .lowestTNT, outcome: .unserved))

        try state.apply(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 0, timestamp: 0)))
        #expect(throws: TNTError.policyMismatch(ref, chain: .splitTNT, recorded: .lowestTNT)) {
            try state.apply(.dispatch(Dispatch(request: ref, policy: .lowestTNT, outcome: .unserved)))
        }
        // Unserved is not the split rule's answer.
        #expect(throws: TNTError.dispatchMismatch(ref, expected: shares, recorded: .unserved)) {
            try state.apply(.dispatch(Dispatch(request: ref, policy: .splitTNT, outcome: .unserved)))
        }
        // Wrong amounts or order of shares are not either.
        let s = shares.shares
        let swapped = DispatchOutcome.split([s[1], s[0]])
        #expect(throws: TNTError.dispatchMismatch(ref, expected: shares, recorded: swapped)) {
            try state.apply(.dispatch(Dispatch(request: ref, policy: .splitTNT, outcome: swapped)))
        }
        let before = state.digest()
        #expect(state.pendingEnergy(of: ref) == 100)
        let dispatch = try state.dispatch(for: ref)
        #expect(dispatch.policy == .splitTNT && dispatch.outcome == shares)
        try state.apply(.dispatch(dispatch))
        #expect(state.digest() != before)
        #expect(state.status(of: a.id)?.tnt == 1 && state.status(of: b.id)?.tnt == 1)
        #expect((state.status(of: a.id)?.servedWh ?? 0) + (state.status(of: b.id)?.servedWh ?? 0) == 100)

        // Without enforcing (a forging test gateway), an infeasible or short split still fails.
        try state.apply(.request(EnergyRequest(consumer: c.id, sequence: 2, energyWh: 10, timestamp: 0)))
        let ref2 = RequestReference(consumer: c.id, sequence: 2)
        let short = try Dispatch(
            request: ref2,
            policy: .splitTNT,
            outcome: .split([
                DispatchShare(producer: a.id, energyWh: 5, tntBefore: 1),
                DispatchShare(producer: b.id, energyWh: 4, tntBefore: 1),
            ])
        )
        #expect(throws: TNTError.deliveredMismatch(ref2, requested: 10, delivered: 9)) {
            try state.apply(.dispatch(short), enforcingRule: false)
        }
        // The first producer taken gave all it had, so it cannot give 5 Wh more.
        let infeasible = try Dispatch(
            request: ref2,
            policy: .splitTNT,
            outcome: .split([
                DispatchShare(producer: s[1].producer, energyWh: 5, tntBefore: 1),
                DispatchShare(producer: s[0].producer, energyWh: 5, tntBefore: 1),
            ])
        )
        let unchanged = state.digest()
        #expect(throws: TNTError.infeasibleDispatch(ref2, producer: s[0].producer)) {
            try state.apply(.dispatch(infeasible), enforcingRule: false)
        }
        #expect(state.digest() == unchanged)
    }
}

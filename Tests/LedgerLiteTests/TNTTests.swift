import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite

@Suite struct TNTTests {
    static func key(_ i: Int) -> PublicIdentity {
        var seed = [UInt8](repeating: 0x5a, count: 32)
        seed[0] = UInt8(i & 0xff)
        seed[1] = UInt8(i >> 8 & 0xff)
        seed[2] = UInt8(i >> 16 & 0xff)
        do { return try SigningIdentity(seed: seed).publicIdentity } catch { fatalError("\(error)") }
    }

    /// Enrolls a meter; a producer's first reading follows, with its export counter at 0.
    static func enroll(_ state: inout TNTState, _ key: PublicIdentity, _ role: MeterRole) throws {
        try state.apply(.enrollment(Enrollment(meterKey: key, role: role, timestamp: 0)))
        if role == .producer { try exportReading(&state, key.id, counter: 0) }
    }

    /// A producer reading whose export counter is `counter` Wh (TNTState does not check
    /// reading sequences; ChainState does).
    static func exportReading(_ state: inout TNTState, _ producer: MeterID, counter: Int64) throws {
        try state.apply(
            .reading(
                Reading(meter: producer, sequence: 1, timestamp: 0, values: [MeasuredValue(.energyExportWh, counter)])
            )
        )
    }

    /// The producer's meter exports `wh` more (its counter started at 0), then it offers `wh`.
    static func offer(_ state: inout TNTState, _ producer: MeterID, _ wh: UInt64, seq: UInt64 = 1) throws {
        if let exported = state.status(of: producer)?.exportedWh {
            try exportReading(&state, producer, counter: Int64(exported + wh))
        }
        try offerOnly(&state, producer, wh, seq: seq)
    }

    /// Applies an offer without any reading before it.
    static func offerOnly(_ state: inout TNTState, _ producer: MeterID, _ wh: UInt64, seq: UInt64 = 1) throws {
        try state.apply(.offer(Offer(producer: producer, sequence: seq, energyWh: wh, validFrom: 0, validUntil: 1)))
    }

    /// Requests `wh` and applies the rule's dispatch; returns the outcome.
    @discardableResult
    static func serve(
        _ state: inout TNTState,
        _ consumer: MeterID,
        _ seq: UInt64,
        _ wh: UInt64
    ) throws -> DispatchOutcome {
        try state.apply(.request(EnergyRequest(consumer: consumer, sequence: seq, energyWh: wh, timestamp: 0)))
        let dispatch = try state.dispatch(for: RequestReference(consumer: consumer, sequence: seq))
        try state.apply(.dispatch(dispatch))
        return dispatch.outcome
    }

    @Test func picksLowestTNTThenLowestIDAmongThoseWithEnoughEnergy() throws {
        var state = TNTState()
        let producers = (0..<3).map(Self.key).sorted { $0.id < $1.id }
        let consumer = Self.key(100)
        for p in producers { try Self.enroll(&state, p, .producer) }
        try Self.enroll(&state, consumer, .consumer)
        try Self.offer(&state, producers[0].id, 100)
        try Self.offer(&state, producers[1].id, 1000)
        try Self.offer(&state, producers[2].id, 1000)

        // All TNT 0: lowest id that has 500 Wh is producers[1] (producers[0] has only 100).
        #expect(
            try Self.serve(&state, consumer.id, 1, 500)
                == .served(producer: producers[1].id, energyWh: 500, producerTNTBefore: 0)
        )
        // producers[1] now TNT 1; producers[0] and [2] TNT 0; 50 Wh → lowest id with TNT 0 = producers[0].
        #expect(
            try Self.serve(&state, consumer.id, 2, 50)
                == .served(producer: producers[0].id, energyWh: 50, producerTNTBefore: 0)
        )
        // [0]: TNT 1, 50 left; [1]: TNT 1, 500 left; [2]: TNT 0, 1000 → 600 Wh goes to [2].
        #expect(
            try Self.serve(&state, consumer.id, 3, 600)
                == .served(producer: producers[2].id, energyWh: 600, producerTNTBefore: 0)
        )
        // All TNT 1: 400 Wh → [0] lacks energy, [1] has 500.
        #expect(
            try Self.serve(&state, consumer.id, 4, 400)
                == .served(producer: producers[1].id, energyWh: 400, producerTNTBefore: 1)
        )
        // Nobody has 10 kWh.
        #expect(try Self.serve(&state, consumer.id, 5, 10_000) == .unserved)
        #expect(
            state.status(of: producers[1].id)
                == MeterStatus(
                    role: .producer,
                    active: true,
                    availableWh: 100,
                    tnt: 2,
                    servedWh: 900,
                    exportedWh: 1000,
                    creditedWh: 1000
                )
        )
        #expect(state.pendingRequests.isEmpty)
    }

    @Test func revocationRemovesAProducerAndReEnrollmentRestoresIt() throws {
        var state = TNTState()
        let p = Self.key(1)
        let c = Self.key(2)
        try Self.enroll(&state, p, .producer)
        try Self.enroll(&state, c, .consumer)
        try Self.offer(&state, p.id, 100)
        try state.apply(.revocation(Revocation(meterKey: p, role: .producer, timestamp: 0)))
        #expect(try Self.serve(&state, c.id, 1, 10) == .unserved)
        #expect(throws: TNTError.revoked(p.id)) { try Self.offerOnly(&state, p.id, 5, seq: 2) }
        try Self.enroll(&state, p, .producer)
        #expect(try Self.serve(&state, c.id, 2, 10) == .served(producer: p.id, energyWh: 10, producerTNTBefore: 0))
        #expect(throws: TNTError.roleMismatch(p.id, enrolled: .producer, claimed: .consumer)) {
            try state.apply(.revocation(Revocation(meterKey: p, role: .consumer, timestamp: 0)))
        }
    }

    @Test func refusesInvalidTransitionsAndLeavesStateUnchanged() throws {
        var state = TNTState()
        let p = Self.key(1)
        let c = Self.key(2)
        let stranger = Self.key(3)
        try Self.enroll(&state, p, .producer)
        try Self.enroll(&state, c, .consumer)
        try Self.offer(&state, p.id, 100)
        let before = state.digest()
        #expect(throws: TNTError.alreadyEnrolled(p.id)) { try Self.enroll(&state, p, .producer) }
        #expect(throws: TNTError.wrongRole(c.id, has: .consumer, needs: .producer)) {
            try Self.offerOnly(&state, c.id, 1)
        }
        #expect(throws: TNTError.notEnrolled(stranger.id)) { try Self.offerOnly(&state, stranger.id, 1) }
        let ref = RequestReference(consumer: c.id, sequence: 9)
        #expect(throws: TNTError.unknownRequest(ref)) {
            try state.apply(.dispatch(Dispatch(request: ref, outcome: .unserved)))
        }
        #expect(state.digest() == before)

        try state.apply(.request(EnergyRequest(consumer: c.id, sequence: 9, energyWh: 50, timestamp: 0)))
        #expect(throws: TNTError.duplicateRequest(ref)) {
            try state.apply(.request(EnergyRequest(consumer: c.id, sequence: 9, energyWh: 50, timestamp: 0)))
        }
        // An "unserved" dispatch when the producer could serve is not the rule's answer.
        let expected = DispatchOutcome.served(producer: p.id, energyWh: 50, producerTNTBefore: 0)
        #expect(throws: TNTError.dispatchMismatch(ref, expected: expected, recorded: .unserved)) {
            try state.apply(.dispatch(Dispatch(request: ref, outcome: .unserved)))
        }
        // Right producer, wrong TNT-before.
        #expect(throws: TNTError.self) {
            try state.apply(
                .dispatch(Dispatch(request: ref, outcome: .served(producer: p.id, energyWh: 50, producerTNTBefore: 7)))
            )
        }
        #expect(state.pendingEnergy(of: ref) == 50)
    }

    /// With thousands of meters (enrolled in random id order) the state lists every meter
    /// once, in ascending id order, whatever the order of enrollment.
    @Test func canonicalBytesListMetersInIdOrderAtScale() throws {
        var state = TNTState()
        var shuffled = TNTState()
        let keys = (0..<2500).map { _ in SigningIdentity().publicIdentity }
        for k in keys { try Self.enroll(&state, k, .consumer) }
        for k in keys.reversed() { try Self.enroll(&shuffled, k, .consumer) }
        let bytes = state.canonicalBytes()
        #expect(bytes == shuffled.canonicalBytes())
        let ids = (0..<keys.count).map { Array(bytes[15 + $0 * 67..<15 + $0 * 67 + 16]) }
        #expect(ids == keys.map(\.id).sorted().map { Array($0.bytes) })
    }

    @Test func digestIsCanonicalAndTracksChanges() throws {
        let keys = (0..<5).map(Self.key)
        var a = TNTState()
        var b = TNTState()
        for k in keys { try Self.enroll(&a, k, .producer) }
        for k in keys.reversed() { try Self.enroll(&b, k, .producer) }
        #expect(a.digest() == b.digest())
        try Self.offer(&a, keys[2].id, 10)
        #expect(a.digest() != b.digest())
        try Self.offer(&b, keys[2].id, 10)
        #expect(a.canonicalBytes() == b.canonicalBytes())
    }

    /// Random histories: every decision equals the naive scan, and the table equals a
    /// plain model of what the rule should have done.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func matchesNaiveScanOnRandomHistories(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var state = TNTState()
        let producerCount = Int.random(in: 1...40, using: &rng)
        let producers = (0..<producerCount).map { Self.key($0) }
        let consumer = Self.key(10_000)
        try Self.enroll(&state, consumer, .consumer)
        var model: [KeyID: (available: UInt64, tnt: UInt64, active: Bool, served: UInt64, credited: UInt64)] = [:]
        var enrolled = Set<KeyID>()
        var offerSeq: UInt64 = 0
        var requestSeq: UInt64 = 0
        for _ in 0..<600 {
            let p = producers[Int.random(in: 0..<producerCount, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                if model[p.id]?.active == true {
                    try state.apply(.revocation(Revocation(meterKey: p, role: .producer, timestamp: 0)))
                    model[p.id]?.active = false
                } else {
                    try Self.enroll(&state, p, .producer)
                    if model[p.id] == nil { model[p.id] = (0, 0, true, 0, 0) } else { model[p.id]?.active = true }
                    enrolled.insert(p.id)
                }
            case 1...4:
                guard model[p.id]?.active == true else { continue }
                offerSeq += 1
                let wh = UInt64.random(in: 1...50, using: &rng)
                try Self.offer(&state, p.id, wh, seq: offerSeq)
                model[p.id]?.available += wh
                model[p.id]?.credited += wh
            default:
                requestSeq += 1
                let wh = UInt64.random(in: 1...60, using: &rng)
                let fast = state.decide(energyWh: wh)
                #expect(fast == state.naiveDecide(energyWh: wh))
                // The model's own choice.
                let best = model.filter { $0.value.active && $0.value.available >= wh }
                    .min { ($0.value.tnt, $0.key) < ($1.value.tnt, $1.key) }
                let outcome = try Self.serve(&state, consumer.id, requestSeq, wh)
                if let best {
                    #expect(outcome == .served(producer: best.key, energyWh: wh, producerTNTBefore: best.value.tnt))
                    model[best.key]?.available -= wh
                    model[best.key]?.tnt += 1
                    model[best.key]?.served += wh
                } else {
                    #expect(outcome == .unserved)
                }
            }
        }
        for (id, m) in model {
            #expect(
                state.status(of: id)
                    == MeterStatus(
                        role: .producer,
                        active: m.active,
                        availableWh: m.available,
                        tnt: m.tnt,
                        servedWh: m.served,
                        exportedWh: m.credited,
                        creditedWh: m.credited
                    )
            )
        }
    }

    /// Many producers with equal TNT and energy: ties resolve by id, and TNT spreads evenly.
    @Test func roundRobinsEquallyEndowedProducers() throws {
        var state = TNTState()
        let producers = (0..<50).map(Self.key)
        let consumer = Self.key(999)
        try Self.enroll(&state, consumer, .consumer)
        for (i, p) in producers.enumerated() {
            try Self.enroll(&state, p, .producer)
            try Self.offer(&state, p.id, 1000, seq: UInt64(i + 1))
        }
        let order = producers.map(\.id).sorted()
        for round in 0..<3 {
            for (i, expected) in order.enumerated() {
                let outcome = try Self.serve(&state, consumer.id, UInt64(round * 50 + i + 1), 10)
                #expect(outcome == .served(producer: expected, energyWh: 10, producerTNTBefore: UInt64(round)))
            }
        }
    }
}

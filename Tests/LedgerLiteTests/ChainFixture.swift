import TestSupport

@testable import LedgerLite
@testable import LedgerStore

/// Builds realistic chains for tests: enrolled consumers and producers, readings (producers'
/// carry an export counter), offers backed by metered export, requests answered by the TNT
/// rule, and an anomaly.
struct ChainFixture {
    var builder: BlockBuilder
    var blocks: [Block] = []
    let consumers: [SigningIdentity]
    let producers: [SigningIdentity]
    var time: Int64 = TestKeys.baseTime
    var readingSeq: [KeyID: UInt64] = [:]
    var offerSeq: [KeyID: UInt64] = [:]
    var requestSeq: [KeyID: UInt64] = [:]
    /// Producers' export counters, Wh.
    var exportCounter: [KeyID: Int64] = [:]

    init(maxEntries: Int = 10, consumers: Int = 2, producers: Int = 3, gateway: SigningIdentity = TestKeys.gateway) {
        builder = BlockBuilder(
            gateway: gateway,
            policy: SealPolicy(maxEntries: maxEntries, maxAgeMilliseconds: 3_600_000)
        )
        self.consumers = (0..<consumers).map { TestKeys.key(UInt8(0x40 + $0)) }
        self.producers = (0..<producers).map { TestKeys.key(UInt8(0x60 + $0)) }
    }

    mutating func tick() -> Int64 {
        time += 1000
        return time
    }

    mutating func add(_ entry: SignedRecord) throws {
        if let block = try builder.add(entry, at: tick()) { blocks.append(block) }
    }

    mutating func enrollAll() throws {
        for c in consumers {
            try addGateway(.enrollment(Enrollment(meterKey: c.publicIdentity, role: .consumer, timestamp: time)))
        }
        for p in producers {
            try addGateway(.enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: time)))
        }
    }

    mutating func addGateway(_ record: Record) throws {
        let (_, sealed) = try builder.addGatewayRecord(record, at: tick())
        if let sealed { blocks.append(sealed) }
    }

    @discardableResult
    mutating func reading(_ meter: SigningIdentity, energy: Int64 = 100) throws -> SignedRecord {
        let seq = (readingSeq[meter.id] ?? 0) + 1
        readingSeq[meter.id] = seq
        var values = [
            MeasuredValue(.energyImportWh, energy * Int64(seq)), MeasuredValue(.activePowerW, 230),
            MeasuredValue(.voltageL1dV, 2301),
        ]
        if producers.contains(where: { $0.id == meter.id }) {
            values.append(MeasuredValue(.energyExportWh, exportCounter[meter.id] ?? 0))
        }
        let reading = try Reading(meter: meter.id, sequence: seq, timestamp: time, values: values)
        let entry = meter.signed(.reading(reading))
        try add(entry)
        return entry
    }

    /// The producer's meter reports `wh` more export (after a first reading, if it had
    /// none), then the producer offers `wh`, all of which is credited.
    mutating func offer(_ producer: SigningIdentity, _ wh: UInt64) throws {
        if readingSeq[producer.id] == nil { try reading(producer) }
        exportCounter[producer.id, default: 0] += Int64(wh)
        try reading(producer)
        try offerOnly(producer, wh)
    }

    /// The producer offers `wh`, with no reading before.
    mutating func offerOnly(_ producer: SigningIdentity, _ wh: UInt64) throws {
        let seq = (offerSeq[producer.id] ?? 0) + 1
        offerSeq[producer.id] = seq
        try add(
            producer.signed(
                .offer(
                    try Offer(
                        producer: producer.id,
                        sequence: seq,
                        energyWh: wh,
                        validFrom: time,
                        validUntil: time + 3_600_000
                    )
                )
            )
        )
    }

    @discardableResult
    mutating func request(_ consumer: SigningIdentity, _ wh: UInt64) throws -> SignedRecord {
        let seq = (requestSeq[consumer.id] ?? 0) + 1
        requestSeq[consumer.id] = seq
        try add(
            consumer.signed(
                .request(try EnergyRequest(consumer: consumer.id, sequence: seq, energyWh: wh, timestamp: time))
            )
        )
        let (entry, sealed) = try builder.dispatch(RequestReference(consumer: consumer.id, sequence: seq), at: tick())
        if let sealed { blocks.append(sealed) }
        return entry
    }

    mutating func finish() throws {
        if let block = try builder.seal(at: tick()) { blocks.append(block) }
    }

    /// About 60 entries over 6+ blocks: enrollments, offers, readings, six requests with
    /// their dispatches (one unserved) and an anomaly.
    static func standard(maxEntries: Int = 10) throws -> ChainFixture {
        var f = ChainFixture(maxEntries: maxEntries)
        try f.enrollAll()
        try f.offer(f.producers[0], 1000)
        try f.offer(f.producers[1], 500)
        try f.offer(f.producers[2], 2000)
        for round in 0..<6 {
            for m in f.consumers + f.producers { try f.reading(m) }
            let wh: UInt64 = round == 4 ? 50_000 : UInt64(100 + 50 * round)
            try f.request(f.consumers[round % 2], wh)
        }
        try f.addGateway(
            .anomaly(
                try Anomaly(
                    kind: .clockSkew,
                    subject: f.consumers[0].id,
                    evidenceHash: .zero,
                    timestamp: f.time,
                    detail: "clock 5 s ahead"
                )
            )
        )
        try f.finish()
        return f
    }

    /// A chain that switches to the split policy: offers of 1000, 500 and 2000 Wh, a
    /// served request, the policy record, then requests answered by one producer and by a
    /// split over several.
    static func trading(maxEntries: Int = 10) throws -> ChainFixture {
        var f = ChainFixture(maxEntries: maxEntries)
        try f.enrollAll()
        try f.offer(f.producers[0], 1000)
        try f.offer(f.producers[1], 500)
        try f.offer(f.producers[2], 2000)
        try f.request(f.consumers[0], 300)
        try f.addGateway(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 50, timestamp: f.time)))
        try f.request(f.consumers[1], 200)
        try f.request(f.consumers[0], 2500)
        for m in f.consumers + f.producers { try f.reading(m) }
        try f.request(f.consumers[1], 100)
        try f.finish()
        return f
    }

    func write(to store: ChainStore) throws {
        for block in blocks { try store.append(block) }
    }
}

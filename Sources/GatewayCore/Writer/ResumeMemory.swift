import LedgerLite

/// What the chain writer keeps about sealed entries besides the chain state, rebuilt from
/// them alone: each meter's enrollment and latest reading, the anomaly detector's memory of
/// recorded anomalies, each meter's last offer and request, and the escalation records.
/// Live state only, except `escalations` and the detector's `equivocations`, which the
/// rules need for as long as the chain (a decision or an equivocation recorded again is
/// answered with the first); both grow with escalations and equivocations, never readings.
package struct ResumeMemory: Sendable {
    package var meters: [MeterID: MeterInfo] = [:]
    /// Only `remember(_:)` of anomalies is applied here: gap, equivocation and foreign-reading
    /// memory. Voltage and tamper conditions follow from the latest readings (`detector`).
    package var anomalies = AnomalyDetector()
    package var lastTrades: [TradeKey: LastTrade] = [:]
    package var escalations: [UInt64: SignedRecord] = [:]

    package init() {}

    /// Takes one entry, in chain order.
    package mutating func note(_ entry: SignedRecord) {
        Self.note(entry, meters: &meters, lastTrades: &lastTrades, escalations: &escalations)
        if case let .anomaly(a) = entry.record { anomalies.remember(a) }
    }

    /// What the writer remembers of an entry besides its anomaly memory, in one place for
    /// both the store's memory and the writer's live view (which adds the journal's entries):
    /// enrollments, revocations and each meter's latest reading; the last offer and request
    /// of each meter; escalation records.
    static func note(
        _ entry: SignedRecord,
        meters: inout [MeterID: MeterInfo],
        lastTrades: inout [TradeKey: LastTrade],
        escalations: inout [UInt64: SignedRecord]
    ) {
        switch entry.record {
        case let .enrollment(e):
            meters[e.meter] = MeterInfo(e, previous: meters[e.meter])
        case let .revocation(r):
            meters[r.meter]?.active = false
        case let .offer(o):
            lastTrades[TradeKey(meter: o.producer, type: .offer)] = LastTrade(sequence: o.sequence, bytes: entry.bytes)
        case let .request(q):
            lastTrades[TradeKey(meter: q.consumer, type: .request)] = LastTrade(
                sequence: q.sequence,
                bytes: entry.bytes
            )
        case let .escalation(e):
            escalations[e.decision.decision.decisionID] = entry
        case let .reading(r):
            meters[r.meter]?.lastReading = r
        default:
            break
        }
    }

    /// The anomaly detector as of these entries: the remembered anomalies, and the voltage
    /// and tamper conditions of each meter's latest reading.
    package func detector(limits: AnomalyLimits) -> AnomalyDetector {
        var detector = anomalies
        detector.limits = limits
        for info in meters.values { if let r = info.lastReading { detector.remember(latest: r) } }
        return detector
    }
}

// MARK: encoding (docs/FORMATS.md, "Resume snapshot")

extension ResumeMemory {
    /// The encoded sections, in order, with the names a mismatch is reported by.
    func sections() -> [(name: String, bytes: [UInt8])] {
        var m = ByteWriter(capacity: 64 + meters.count * 200)
        m.u32(UInt32(truncatingIfNeeded: meters.count))
        for id in meters.keys.sorted() {
            let info = meters[id]!
            m.keyID(id)
            m.raw(info.key.rawBytes)
            m.u8(info.role.rawValue)
            m.flag(info.active)
            m.i64(info.enrolledAt)
            m.flag(info.lastReading != nil)
            if let r = info.lastReading { m.lengthPrefixed(r.canonicalBytes()) }
        }
        var a = ByteWriter()
        a.u32(UInt32(truncatingIfNeeded: anomalies.gapReported.count))
        for id in anomalies.gapReported.keys.sorted() {
            a.keyID(id)
            a.u64(anomalies.gapReported[id]!)
        }
        a.u32(UInt32(truncatingIfNeeded: anomalies.equivocations.count))
        for hash in anomalies.equivocations.sorted(by: { $0.hex < $1.hex }) { a.hash(hash) }
        a.u32(UInt32(truncatingIfNeeded: anomalies.foreignReadings.count))
        for key in anomalies.foreignReadings.sorted(by: { ($0.meter, $0.gateway) < ($1.meter, $1.gateway) }) {
            a.keyID(key.meter)
            a.keyID(key.gateway)
        }
        var t = ByteWriter()
        let trades = lastTrades.sorted { ($0.key.meter, $0.key.type.rawValue) < ($1.key.meter, $1.key.type.rawValue) }
        t.u32(UInt32(truncatingIfNeeded: trades.count))
        for (_, trade) in trades { t.lengthPrefixed(trade.bytes) }
        var e = ByteWriter()
        e.u32(UInt32(truncatingIfNeeded: escalations.count))
        for id in escalations.keys.sorted() { e.lengthPrefixed(escalations[id]!.bytes) }
        return [
            ("meters", m.bytes), ("anomaly memory", a.bytes), ("last offers and requests", t.bytes),
            ("escalations", e.bytes),
        ]
    }

    /// Reads what `sections()` wrote (concatenated). Strict: keys ascending, known roles,
    /// each meter's key its own, each record of the type its section holds.
    init(from r: inout ByteReader) throws(RecordDecodingError) {
        self.init()
        var previous: MeterID?
        for _ in 0..<(try r.count("meters", itemBytes: 59)) {
            let id = try r.keyID("meter id")
            if let p = previous, !(p < id) { throw .invalidField(field: "meters", reason: "ids are not ascending") }
            previous = id
            let raw = try r.raw(32, "meter key")
            let key: PublicIdentity
            do { key = try PublicIdentity(rawBytes: raw) } catch {
                throw .invalidField(field: "meter key", reason: "\(error)")
            }
            guard key.id == id else {
                throw .invalidField(field: "meter key", reason: "it is not meter \(id.hex)'s key")
            }
            guard let role = MeterRole(rawValue: try r.u8("meter role")) else {
                throw .invalidField(field: "meter role", reason: "unknown role")
            }
            var info = MeterInfo(
                key: key,
                role: role,
                active: try r.flag("meter active"),
                enrolledAt: try r.i64("enrolled at")
            )
            if try r.flag("last reading flag") {
                let reading = try Reading(
                    canonicalBytes: try r.lengthPrefixed("last reading", limit: Reading.maxEncodedBytes)[...]
                )
                guard reading.meter == id else {
                    throw .invalidField(field: "last reading", reason: "it is not meter \(id.hex)'s")
                }
                info.lastReading = reading
            }
            meters[id] = info
        }
        previous = nil
        for _ in 0..<(try r.count("sequence gaps", itemBytes: 24)) {
            let id = try r.keyID("sequence gap meter")
            if let p = previous, !(p < id) {
                throw .invalidField(field: "sequence gaps", reason: "ids are not ascending")
            }
            previous = id
            anomalies.gapReported[id] = try r.u64("sequence gap")
        }
        for _ in 0..<(try r.count("equivocations", itemBytes: 32)) {
            guard anomalies.equivocations.insert(try r.hash("equivocation")).inserted else {
                throw .invalidField(field: "equivocations", reason: "listed twice")
            }
        }
        for _ in 0..<(try r.count("foreign readings", itemBytes: 32)) {
            let key = AnomalyDetector.ForeignKey(
                meter: try r.keyID("foreign meter"),
                gateway: try r.keyID("foreign gateway")
            )
            guard anomalies.foreignReadings.insert(key).inserted else {
                throw .invalidField(field: "foreign readings", reason: "listed twice")
            }
        }
        for _ in 0..<(try r.count("last offers and requests", itemBytes: 4)) {
            let entry = try SignedRecord(
                bytes: try r.lengthPrefixed("last trade", limit: SignedRecord.maxEnvelopeBytes)
            )
            switch entry.record {
            case let .offer(o):
                lastTrades[TradeKey(meter: o.producer, type: .offer)] = LastTrade(
                    sequence: o.sequence,
                    bytes: entry.bytes
                )
            case let .request(q):
                lastTrades[TradeKey(meter: q.consumer, type: .request)] = LastTrade(
                    sequence: q.sequence,
                    bytes: entry.bytes
                )
            default:
                throw .invalidField(field: "last offers and requests", reason: "a \(entry.record.type) record")
            }
        }
        for _ in 0..<(try r.count("escalations", itemBytes: 4)) {
            let entry = try SignedRecord(
                bytes: try r.lengthPrefixed("escalation", limit: SignedRecord.maxEnvelopeBytes)
            )
            guard case let .escalation(e) = entry.record else {
                throw .invalidField(field: "escalations", reason: "a \(entry.record.type) record")
            }
            escalations[e.decision.decision.decisionID] = entry
        }
    }
}

import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite

/// Random records round-trip; random and mutated bytes never crash a decoder, and whatever a
/// decoder accepts re-encodes to exactly the same bytes (canonical encodings).
@Suite struct RecordPropertyTests {
    static func randomRecord(_ rng: inout SplitMix64) throws -> Record {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0:
            let measurands = Measurand.allCases.filter { !$0.isCounterResolution && Bool.random(using: &rng) }
            return .reading(
                try Reading(
                    meter: rng.keyID(),
                    sequence: UInt64.random(in: 1 ... .max, using: &rng),
                    timestamp: Int64(bitPattern: rng.next()),
                    values: measurands.shuffled(using: &rng).map { MeasuredValue($0, Int64(bitPattern: rng.next())) },
                    status: ReadingStatus(rawValue: UInt16.random(in: 0...3, using: &rng))
                )
            )
        case 1:
            let from = Int64.random(in: .min ..< .max, using: &rng)
            return .offer(
                try Offer(
                    producer: rng.keyID(),
                    sequence: UInt64.random(in: 1 ... .max, using: &rng),
                    energyWh: UInt64.random(in: 1 ... .max, using: &rng),
                    validFrom: from,
                    validUntil: Int64.random(in: from + 1 ... .max, using: &rng)
                )
            )
        case 2:
            return .request(
                try EnergyRequest(
                    consumer: rng.keyID(),
                    sequence: UInt64.random(in: 1 ... .max, using: &rng),
                    energyWh: UInt64.random(in: 1 ... .max, using: &rng),
                    timestamp: Int64(bitPattern: rng.next())
                )
            )
        case 3:
            let ref = RequestReference(consumer: rng.keyID(), sequence: UInt64.random(in: 1 ... .max, using: &rng))
            let outcome: DispatchOutcome =
                Bool.random(using: &rng)
                ? .unserved
                : .served(
                    producer: rng.keyID(),
                    energyWh: UInt64.random(in: 1 ... .max, using: &rng),
                    producerTNTBefore: rng.next()
                )
            return .dispatch(
                try Dispatch(request: ref, policy: Bool.random(using: &rng) ? .lowestTNT : .splitTNT, outcome: outcome)
            )
        case 7:
            let ref = RequestReference(consumer: rng.keyID(), sequence: UInt64.random(in: 1 ... .max, using: &rng))
            let shares = (0..<Int.random(in: 2...Dispatch.maxShares, using: &rng)).map { _ in
                DispatchShare(
                    producer: rng.keyID(),
                    energyWh: UInt64.random(in: 1...1 << 40, using: &rng),
                    tntBefore: rng.next()
                )
            }
            return .dispatch(try Dispatch(request: ref, policy: .splitTNT, outcome: .split(shares)))
        case 8:
            return .policy(
                PolicyRecord(
                    policy: Bool.random(using: &rng) ? .lowestTNT : .splitTNT,
                    offerToleranceWh: rng.next(),
                    timestamp: Int64(bitPattern: rng.next())
                )
            )
        case 4, 5:
            let key = try PublicIdentity(rawBytes: rng.bytes(32))
            let role: MeterRole = Bool.random(using: &rng) ? .consumer : .producer
            let time = Int64(bitPattern: rng.next())
            return Bool.random(using: &rng)
                ? .enrollment(Enrollment(meterKey: key, role: role, timestamp: time))
                : .revocation(Revocation(meterKey: key, role: role, timestamp: time))
        default:
            let alphabet = Array("abcXYZ 0189-_é€😀\u{0}")
            let detail = String(
                (0..<Int.random(in: 0...200, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? "a" }
            )
            return .anomaly(
                try Anomaly(
                    kind: AnomalyKind.allCases.randomElement(using: &rng) ?? .other,
                    subject: rng.keyID(),
                    evidenceHash: rng.hash(),
                    timestamp: Int64(bitPattern: rng.next()),
                    detail: detail
                )
            )
        }
    }

    /// Every decoder, as "decode these bytes; on success return the canonical re-encoding".
    static let decoders: [(String, @Sendable ([UInt8]) throws -> [UInt8])] = [
        ("Record", { try Record(canonicalBytes: $0).canonicalBytes() }),
        ("Reading", { try Reading(canonicalBytes: $0).canonicalBytes() }),
        ("Offer", { try Offer(canonicalBytes: $0).canonicalBytes() }),
        ("EnergyRequest", { try EnergyRequest(canonicalBytes: $0).canonicalBytes() }),
        ("Dispatch", { try Dispatch(canonicalBytes: $0).canonicalBytes() }),
        ("Enrollment", { try Enrollment(canonicalBytes: $0).canonicalBytes() }),
        ("Revocation", { try Revocation(canonicalBytes: $0).canonicalBytes() }),
        ("Anomaly", { try Anomaly(canonicalBytes: $0).canonicalBytes() }),
        ("PolicyRecord", { try PolicyRecord(canonicalBytes: $0).canonicalBytes() }),
        ("SignedRecord", { try SignedRecord(bytes: $0).bytes }),
        ("BlockHeader", { try BlockHeader(canonicalBytes: $0[...]).canonicalBytes() }),
        ("SignedBlockHeader", { try SignedBlockHeader(bytes: $0).bytes }),
    ]

    @Test func randomRecordsRoundTrip() throws {
        var rng = SplitMix64(seed: 0x5eed_0001)
        for _ in 0..<3000 {
            let record = try Self.randomRecord(&rng)
            let bytes = record.canonicalBytes()
            #expect(try Record(canonicalBytes: bytes) == record)
            #expect(bytes.first == record.type.rawValue)
        }
    }

    @Test func signedRecordsRoundTripAndVerify() throws {
        var rng = SplitMix64(seed: 0x5eed_0002)
        let key = TestKeys.meter
        for _ in 0..<300 {
            let record = try Self.randomRecord(&rng)
            let signed = key.signed(record)
            let decoded = try SignedRecord(bytes: signed.bytes)
            #expect(decoded.record == record)
            #expect(decoded.isSignatureValid(by: key.publicIdentity))
        }
    }

    /// Random bytes, half of them with a valid type and version up front.
    @Test func randomBytesNeverCrashAndAcceptedBytesAreCanonical() {
        var rng = SplitMix64(seed: 0x5eed_0003)
        let prefixes: [[UInt8]] = [
            [0x01, 1], [0x02, 1], [0x03, 1], [0x04, 1], [0x05, 1], [0x06, 1], [0x07, 1], [0x08, 1], [0x04, 2],
            [0xe0, 1], [0x10, 1],
        ]
        for _ in 0..<3000 {
            var bytes = rng.bytes(Int.random(in: 0...240, using: &rng))
            if Bool.random(using: &rng), let prefix = prefixes.randomElement(using: &rng) {
                bytes = prefix + bytes
            }
            for (name, decode) in Self.decoders {
                if let reencoded = try? decode(bytes) {
                    #expect(reencoded == bytes, "\(name) accepted non-canonical bytes \(encodeHex(bytes))")
                }
            }
        }
    }

    /// Valid encodings with one byte changed, truncated or extended.
    @Test func mutatedEncodingsNeverCrashAndAcceptedBytesAreCanonical() throws {
        var rng = SplitMix64(seed: 0x5eed_0004)
        for _ in 0..<2000 {
            let record = try Self.randomRecord(&rng)
            var bytes = Bool.random(using: &rng) ? record.canonicalBytes() : TestKeys.meter.signed(record).bytes
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= UInt8.random(in: 1...255, using: &rng)
            case 1:
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            default:
                bytes += rng.bytes(Int.random(in: 1...8, using: &rng))
            }
            for (name, decode) in Self.decoders {
                if let reencoded = try? decode(bytes) {
                    #expect(reencoded == bytes, "\(name) accepted non-canonical bytes \(encodeHex(bytes))")
                }
            }
        }
    }

    // MARK: specific rejections

    func sampleReading() throws -> Reading {
        try Reading(
            meter: TestKeys.meter.id,
            sequence: 5,
            timestamp: 1000,
            values: [MeasuredValue(.energyImportWh, 7), MeasuredValue(.activePowerW, -3)]
        )
    }

    @Test func rejectsTrailingBytes() throws {
        let bytes = try sampleReading().canonicalBytes() + [0]
        #expect(throws: RecordDecodingError.trailingBytes(count: 1)) { try Reading(canonicalBytes: bytes) }
        let entry = TestKeys.meter.signed(.reading(try sampleReading())).bytes + [0, 0]
        #expect(throws: RecordDecodingError.trailingBytes(count: 2)) { try SignedRecord(bytes: entry) }
    }

    @Test func rejectsUnknownVersionsAndTypes() throws {
        var bytes = try sampleReading().canonicalBytes()
        bytes[1] = 4
        #expect(throws: RecordDecodingError.unsupportedVersion(recordType: 1, version: 4)) {
            try Reading(canonicalBytes: bytes)
        }
        bytes[0] = 0x42
        #expect(throws: RecordDecodingError.unknownRecordType(0x42)) { try Record(canonicalBytes: bytes) }
        #expect(throws: RecordDecodingError.unknownRecordType(0x42)) { try Reading(canonicalBytes: bytes) }
        bytes[0] = 0x02
        #expect(throws: RecordDecodingError.unexpectedRecordType(expected: 1, found: 2)) {
            try Reading(canonicalBytes: bytes)
        }
    }

    @Test func rejectsUnsortedDuplicateAndUnknownMeasurands() throws {
        let good = try sampleReading().canonicalBytes()
        // Values start at offset 37: (0x0001, 7), (0x0003, -3). Swap their codes.
        var swapped = good
        swapped[38] = 0x03
        swapped[48] = 0x01
        #expect(throws: RecordDecodingError.measurandsNotAscending(position: 1, code: 1)) {
            try Reading(canonicalBytes: swapped)
        }
        var duplicate = good
        duplicate[48] = 0x01
        #expect(throws: RecordDecodingError.measurandsNotAscending(position: 1, code: 1)) {
            try Reading(canonicalBytes: duplicate)
        }
        var unknown = good
        unknown[48] = 0x7f
        #expect(throws: RecordDecodingError.unknownMeasurand(code: 0x7f)) { try Reading(canonicalBytes: unknown) }
        #expect(throws: RecordDecodingError.self) {
            try Reading(
                meter: .zero,
                sequence: 1,
                timestamp: 0,
                values: [MeasuredValue(.activePowerW, 1), MeasuredValue(.activePowerW, 2)]
            )
        }
    }

    @Test func rejectsOversizeAndInvalidFields() throws {
        var bytes = try sampleReading().canonicalBytes()
        bytes[36] = 33
        #expect(throws: RecordDecodingError.oversizeField(field: "values", length: 33, limit: 32)) {
            try Reading(canonicalBytes: bytes)
        }
        var flags = try sampleReading().canonicalBytes()
        flags[35] = 0x04
        #expect(throws: RecordDecodingError.self) { try Reading(canonicalBytes: flags) }
        #expect(throws: RecordDecodingError.oversizeField(field: "detail", length: 1025, limit: 1024)) {
            try Anomaly(
                kind: .other,
                subject: .zero,
                evidenceHash: .zero,
                timestamp: 0,
                detail: String(repeating: "x", count: 1025)
            )
        }
        var anomaly = try Anomaly(kind: .other, subject: .zero, evidenceHash: .zero, timestamp: 0, detail: "ok")
            .canonicalBytes()
        anomaly[60] = 0xff  // declared detail length 0xff02
        #expect(throws: RecordDecodingError.oversizeField(field: "detail", length: 0xff02, limit: 1024)) {
            try Anomaly(canonicalBytes: anomaly)
        }
        var invalidUTF8 = try Anomaly(kind: .other, subject: .zero, evidenceHash: .zero, timestamp: 0, detail: "ok")
            .canonicalBytes()
        invalidUTF8[62] = 0xff
        #expect(throws: RecordDecodingError.invalidUTF8(field: "detail")) { try Anomaly(canonicalBytes: invalidUTF8) }
        var envelope = TestKeys.meter.signed(.reading(try sampleReading())).bytes
        envelope[18] = 0x01  // body length ≥ 16 MiB
        #expect(throws: RecordDecodingError.self) { try SignedRecord(bytes: envelope) }
        #expect(throws: RecordDecodingError.invalidField(field: "sequence", reason: "sequence numbers start at 1")) {
            try Reading(meter: .zero, sequence: 0, timestamp: 0, values: [])
        }
        var unserved = try Dispatch(request: RequestReference(consumer: .zero, sequence: 1), outcome: .unserved)
            .canonicalBytes()
        unserved[59] = 1  // unserved but TNT 1: not canonical
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: unserved) }
    }

    @Test func rejectsMalformedSplitDispatches() throws {
        let ref = RequestReference(consumer: TestKeys.consumer.id, sequence: 1)
        let a = TestKeys.producer.id
        let b = TestKeys.meter.id
        let good = try Dispatch(
            request: ref,
            policy: .splitTNT,
            outcome: .split([
                DispatchShare(producer: a, energyWh: 5, tntBefore: 0),
                DispatchShare(producer: b, energyWh: 7, tntBefore: 1),
            ])
        )
        #expect(try Dispatch(canonicalBytes: good.canonicalBytes()) == good)
        #expect(good.outcome.energyWh == 12)
        // A split needs the split policy, two shares or more, distinct producers and ≥ 1 Wh each.
        #expect(throws: RecordDecodingError.self) {
            try Dispatch(request: ref, policy: .lowestTNT, outcome: good.outcome)
        }
        #expect(throws: RecordDecodingError.self) {
            try Dispatch(
                request: ref,
                policy: .splitTNT,
                outcome: .split([DispatchShare(producer: a, energyWh: 5, tntBefore: 0)])
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try Dispatch(
                request: ref,
                policy: .splitTNT,
                outcome: .split([
                    DispatchShare(producer: a, energyWh: 5, tntBefore: 0),
                    DispatchShare(producer: a, energyWh: 7, tntBefore: 0),
                ])
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try Dispatch(
                request: ref,
                policy: .splitTNT,
                outcome: .split([
                    DispatchShare(producer: a, energyWh: 5, tntBefore: 0),
                    DispatchShare(producer: b, energyWh: 0, tntBefore: 0),
                ])
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try Dispatch(
                request: ref,
                policy: .splitTNT,
                outcome: .split([
                    DispatchShare(producer: a, energyWh: .max, tntBefore: 0),
                    DispatchShare(producer: b, energyWh: 1, tntBefore: 0),
                ])
            )
        }
        let tooMany = (0...Dispatch.maxShares).map {
            DispatchShare(producer: KeyID(high: 1, low: UInt64($0)), energyWh: 1, tntBefore: 0)
        }
        #expect(
            throws: RecordDecodingError.oversizeField(
                field: "shares",
                length: Dispatch.maxShares + 1,
                limit: Dispatch.maxShares
            )
        ) {
            try Dispatch(request: ref, policy: .splitTNT, outcome: .split(tooMany))
        }
        // The largest split still fits a signed envelope.
        let largest = try Dispatch(request: ref, policy: .splitTNT, outcome: .split(Array(tooMany.dropLast())))
        let signed = TestKeys.gateway.signed(.dispatch(largest))
        #expect(try SignedRecord(bytes: signed.bytes).record == .dispatch(largest))

        var bytes = good.canonicalBytes()
        bytes[26] = 1  // policy lowest TNT with a split outcome
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: bytes) }
        bytes = good.canonicalBytes()
        bytes[27] = 1  // version 2 with a served outcome
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: bytes) }
        bytes = good.canonicalBytes()
        bytes[28] = 3  // one share more than present
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: bytes) }
        bytes = good.canonicalBytes()
        bytes[1] = 1  // a split body under version 1
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: bytes) }
        var served = try Dispatch(request: ref, outcome: .served(producer: a, energyWh: 3, producerTNTBefore: 0))
            .canonicalBytes()
        served[27] = 2  // split outcome in version 1
        #expect(throws: RecordDecodingError.self) { try Dispatch(canonicalBytes: served) }
        var policy = PolicyRecord(policy: .lowestTNT, offerToleranceWh: 0, timestamp: 0).canonicalBytes()
        policy[2] = 3
        #expect(throws: RecordDecodingError.invalidField(field: "policy", reason: "unknown policy 3")) {
            try PolicyRecord(canonicalBytes: policy)
        }
    }

    @Test func truncatedInputNamesTheField() throws {
        let bytes = Array(try sampleReading().canonicalBytes().prefix(20))
        #expect(throws: RecordDecodingError.truncated(field: "sequence", needed: 8, remaining: 2)) {
            try Reading(canonicalBytes: bytes)
        }
    }
}

/// A meter reading, signed by the meter. Layout: docs/FORMATS.md, "Reading".
public struct Reading: CanonicalRecord {
    public static let recordType = RecordType.reading
    static let version: UInt8 = 1
    /// Most measured values one reading may carry.
    public static let maxValues = 32

    /// The meter that measured and signs this reading.
    public var meter: MeterID
    /// Per-meter sequence number: 1 for the first reading, then +1 without gaps.
    public var sequence: UInt64
    /// When the values were measured, milliseconds since the Unix epoch, UTC.
    public var timestamp: Int64
    /// The values, strictly ascending by measurand code (so each measurand at most once).
    public private(set) var values: [MeasuredValue]
    /// Tamper and error flags.
    public var status: ReadingStatus

    /// Creates a reading; `values` are sorted by measurand code.
    /// - Throws: `RecordDecodingError` when `sequence` is 0, a measurand repeats, there are
    ///   more than `maxValues` values, or `status` has undefined bits.
    public init(
        meter: MeterID,
        sequence: UInt64,
        timestamp: Int64,
        values: [MeasuredValue],
        status: ReadingStatus = []
    ) throws(RecordDecodingError) {
        let sorted = values.sorted { $0.measurand < $1.measurand }
        try Reading.validate(sequence: sequence, values: sorted, status: status)
        self.meter = meter
        self.sequence = sequence
        self.timestamp = timestamp
        self.values = sorted
        self.status = status
    }

    /// The value of `measurand`, if present.
    public subscript(_ measurand: Measurand) -> Int64? {
        values.first { $0.measurand == measurand }?.value
    }

    static func validate(sequence: UInt64, values: [MeasuredValue], status: ReadingStatus) throws(RecordDecodingError) {
        guard sequence >= 1 else { throw .invalidField(field: "sequence", reason: "sequence numbers start at 1") }
        guard values.count <= maxValues else {
            throw .oversizeField(field: "values", length: values.count, limit: maxValues)
        }
        for i in values.indices.dropFirst() where values[i].measurand <= values[i - 1].measurand {
            throw .measurandsNotAscending(position: i, code: values[i].measurand.rawValue)
        }
        guard status.isSubset(of: .defined) else {
            throw .invalidField(
                field: "status",
                reason: "undefined flag bits 0x\(String(status.subtracting(.defined).rawValue, radix: 16)) set"
            )
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 37 + 10 * values.count)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(meter)
        w.u64(sequence)
        w.i64(timestamp)
        w.u16(status.rawValue)
        w.u8(UInt8(values.count))
        for v in values {
            w.u16(v.measurand.rawValue)
            w.i64(v.value)
        }
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        meter = try r.keyID("meter")
        sequence = try r.u64("sequence")
        timestamp = try r.i64("timestamp")
        status = ReadingStatus(rawValue: try r.u16("status"))
        let count = Int(try r.u8("value count"))
        guard count <= Self.maxValues else {
            throw .oversizeField(field: "values", length: count, limit: Self.maxValues)
        }
        var values = [MeasuredValue]()
        values.reserveCapacity(count)
        for _ in 0..<count {
            let code = try r.u16("measurand code")
            guard let measurand = Measurand(rawValue: code) else { throw .unknownMeasurand(code: code) }
            values.append(MeasuredValue(measurand, try r.i64("measurand value")))
        }
        try r.finish()
        try Reading.validate(sequence: sequence, values: values, status: status)
        self.values = values
    }
}

/// A meter reading, signed by the meter. Layout: docs/FORMATS.md, "Reading".
///
/// A reading that names its gateway (`gateway` set) is encoded as version 2: the gateway's
/// id is in the signed bytes, so the reading cannot be replayed to another gateway the
/// meter is enrolled with. Version 1 names no gateway; it is still decoded, so chains
/// written before version 2 verify. A reading that also states its counters' resolutions
/// (`Measurand.energyImportResolutionWh`, `.energyExportResolutionWh`) is version 3: the
/// version 2 layout with those codes allowed.
public struct Reading: CanonicalRecord {
    public static let recordType = RecordType.reading
    /// The version of a reading that names no gateway.
    public static let unaddressedVersion: UInt8 = 1
    /// The version of a reading that names its gateway.
    public static let addressedVersion: UInt8 = 2
    /// The version of a reading that names its gateway and states its counters' resolutions.
    public static let resolutionVersion: UInt8 = 3
    /// Most measured values one reading may carry.
    public static let maxValues = 32
    /// Largest canonical encoding: a version 2 reading with `maxValues` values.
    public static let maxEncodedBytes = fixedBytes + valueBytes * maxValues
    /// Type, version, meter, gateway, sequence, timestamp, status and value count.
    static let fixedBytes = 53
    /// A measurand code and its value.
    static let valueBytes = 10

    /// The meter that measured and signs this reading.
    public var meter: MeterID
    /// The gateway the reading is addressed to (version 2), whose chain alone may take it;
    /// nil for a version 1 reading, which names none.
    public var gateway: GatewayID?
    /// Per-meter sequence number: 1 for the first reading, then +1 without gaps.
    public var sequence: UInt64
    /// When the values were measured, milliseconds since the Unix epoch, UTC.
    public var timestamp: Int64
    /// The values, strictly ascending by measurand code (so each measurand at most once).
    public private(set) var values: [MeasuredValue]
    /// Tamper and error flags.
    public var status: ReadingStatus

    /// Creates a reading; `values` are sorted by measurand code. With `gateway` it is a
    /// version 2 reading addressed to that gateway; without, a version 1 reading, which
    /// names no gateway (kept for chains and outboxes written before version 2).
    /// - Throws: `RecordDecodingError` when `sequence` is 0, a measurand repeats, there are
    ///   more than `maxValues` values, or `status` has undefined bits.
    public init(
        meter: MeterID,
        gateway: GatewayID? = nil,
        sequence: UInt64,
        timestamp: Int64,
        values: [MeasuredValue],
        status: ReadingStatus = []
    ) throws(RecordDecodingError) {
        let sorted = values.sorted { $0.measurand < $1.measurand }
        try Reading.validate(sequence: sequence, values: sorted, status: status, addressed: gateway != nil)
        self.meter = meter
        self.gateway = gateway
        self.sequence = sequence
        self.timestamp = timestamp
        self.values = sorted
        self.status = status
    }

    /// The format version these values encode to: 1 without a gateway, 3 with counter
    /// resolutions, else 2.
    public var version: UInt8 {
        if gateway == nil { return Self.unaddressedVersion }
        return values.contains { $0.measurand.isCounterResolution } ? Self.resolutionVersion : Self.addressedVersion
    }

    /// The value of `measurand`, if present.
    public subscript(_ measurand: Measurand) -> Int64? {
        values.first { $0.measurand == measurand }?.value
    }

    static func validate(
        sequence: UInt64,
        values: [MeasuredValue],
        status: ReadingStatus,
        addressed: Bool
    ) throws(RecordDecodingError) {
        guard sequence >= 1 else { throw .invalidField(field: "sequence", reason: "sequence numbers start at 1") }
        guard values.count <= maxValues else {
            throw .oversizeField(field: "values", length: values.count, limit: maxValues)
        }
        for i in values.indices.dropFirst() where values[i].measurand <= values[i - 1].measurand {
            throw .measurandsNotAscending(position: i, code: values[i].measurand.rawValue)
        }
        for v in values where v.measurand.isCounterResolution {
            guard addressed else {
                throw .invalidField(
                    field: "\(v.measurand)",
                    reason: "a counter resolution needs a reading that names its gateway (version 3)"
                )
            }
            guard (1...Measurand.maxResolutionWh).contains(v.value) else {
                throw .invalidField(
                    field: "\(v.measurand)",
                    reason: "\(v.value) Wh is not a counter resolution (1 to \(Measurand.maxResolutionWh) Wh)"
                )
            }
        }
        guard status.isSubset(of: .defined) else {
            throw .invalidField(
                field: "status",
                reason: "undefined flag bits 0x\(String(status.subtracting(.defined).rawValue, radix: 16)) set"
            )
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.fixedBytes + Self.valueBytes * values.count)
        w.u8(Self.recordType.rawValue)
        w.u8(version)
        w.keyID(meter)
        if let gateway { w.keyID(gateway) }
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
        let version = try r.header(
            type: Self.recordType.rawValue,
            versions: Self.unaddressedVersion...Self.resolutionVersion
        )
        meter = try r.keyID("meter")
        gateway = version == Self.unaddressedVersion ? nil : try r.keyID("gateway")
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
            // Versions 1 and 2 know only the measured codes.
            guard let measurand = Measurand(rawValue: code),
                version == Self.resolutionVersion || !measurand.isCounterResolution
            else { throw .unknownMeasurand(code: code) }
            values.append(MeasuredValue(measurand, try r.i64("measurand value")))
        }
        try r.finish()
        try Reading.validate(sequence: sequence, values: values, status: status, addressed: gateway != nil)
        guard version != Self.resolutionVersion || values.contains(where: { $0.measurand.isCounterResolution }) else {
            throw .invalidField(field: "version", reason: "a version 3 reading states a counter resolution")
        }
        self.values = values
    }
}

/// A producer declares energy it can deliver; signed by the producer.
/// Applying an offer adds to the producer's available energy what value verification
/// credits: `energyWh` cut to the meter's metered export plus the chain's tolerance
/// (`TNTState.credit(for:)`).
/// Layout: docs/FORMATS.md, "Offer".
public struct Offer: CanonicalRecord {
    public static let recordType = RecordType.offer
    static let version: UInt8 = 1

    /// The producing meter (signs the offer).
    public var producer: MeterID
    /// Per-producer offer number: starts at 1 and strictly increases (gaps allowed).
    public var sequence: UInt64
    /// Energy offered, Wh (at least 1).
    public var energyWh: UInt64
    /// Start of the delivery interval, ms since the Unix epoch, UTC.
    public var validFrom: Int64
    /// End of the delivery interval (exclusive), after `validFrom`.
    public var validUntil: Int64

    /// Creates an offer.
    /// - Throws: `RecordDecodingError.invalidField` for sequence 0, zero energy or an empty interval.
    public init(
        producer: MeterID,
        sequence: UInt64,
        energyWh: UInt64,
        validFrom: Int64,
        validUntil: Int64
    ) throws(RecordDecodingError) {
        self.producer = producer
        self.sequence = sequence
        self.energyWh = energyWh
        self.validFrom = validFrom
        self.validUntil = validUntil
        try validate()
    }

    func validate() throws(RecordDecodingError) {
        guard sequence >= 1 else { throw .invalidField(field: "sequence", reason: "sequence numbers start at 1") }
        guard energyWh >= 1 else {
            throw .invalidField(field: "energy_wh", reason: "an offer must offer at least 1 Wh")
        }
        guard validUntil > validFrom else {
            throw .invalidField(field: "valid_until", reason: "the interval must end after it starts")
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 58)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(producer)
        w.u64(sequence)
        w.u64(energyWh)
        w.i64(validFrom)
        w.i64(validUntil)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        producer = try r.keyID("producer")
        sequence = try r.u64("sequence")
        energyWh = try r.u64("energy_wh")
        validFrom = try r.i64("valid_from")
        validUntil = try r.i64("valid_until")
        try r.finish()
        try validate()
    }
}

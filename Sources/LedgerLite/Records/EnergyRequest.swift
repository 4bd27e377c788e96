/// A consumer asks for energy; signed by the consumer. The gateway answers it with a
/// `Dispatch` decided by the TNT rule. Layout: docs/FORMATS.md, "Request".
public struct EnergyRequest: CanonicalRecord {
    public static let recordType = RecordType.request
    static let version: UInt8 = 1

    /// The consuming meter (signs the request).
    public var consumer: MeterID
    /// Per-consumer request number: starts at 1 and strictly increases (gaps allowed).
    /// `(consumer, sequence)` identifies the request.
    public var sequence: UInt64
    /// Energy requested, Wh (at least 1).
    public var energyWh: UInt64
    /// When the request was made, ms since the Unix epoch, UTC.
    public var timestamp: Int64

    /// Creates a request.
    /// - Throws: `RecordDecodingError.invalidField` for sequence 0 or zero energy.
    public init(consumer: MeterID, sequence: UInt64, energyWh: UInt64, timestamp: Int64) throws(RecordDecodingError) {
        self.consumer = consumer
        self.sequence = sequence
        self.energyWh = energyWh
        self.timestamp = timestamp
        try validate()
    }

    func validate() throws(RecordDecodingError) {
        guard sequence >= 1 else { throw .invalidField(field: "sequence", reason: "sequence numbers start at 1") }
        guard energyWh >= 1 else {
            throw .invalidField(field: "energy_wh", reason: "a request must ask for at least 1 Wh")
        }
    }

    /// The request's identity, as a Dispatch refers to it.
    public var reference: RequestReference { RequestReference(consumer: consumer, sequence: sequence) }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 42)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(consumer)
        w.u64(sequence)
        w.u64(energyWh)
        w.i64(timestamp)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        consumer = try r.keyID("consumer")
        sequence = try r.u64("sequence")
        energyWh = try r.u64("energy_wh")
        timestamp = try r.i64("timestamp")
        try r.finish()
        try validate()
    }
}

/// Identifies a request: its consumer and the consumer's request sequence number.
public struct RequestReference: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The consumer that made the request.
    public var consumer: MeterID
    /// The request's sequence number.
    public var sequence: UInt64

    /// Creates a reference.
    public init(consumer: MeterID, sequence: UInt64) {
        self.consumer = consumer
        self.sequence = sequence
    }

    public static func < (a: RequestReference, b: RequestReference) -> Bool {
        a.consumer != b.consumer ? a.consumer < b.consumer : a.sequence < b.sequence
    }

    public var description: String { "request \(sequence) of consumer \(consumer.hex)" }
}

/// Evidence of misbehaviour, written on the chain by the gateway.
/// Layout: docs/FORMATS.md, "Anomaly".
public struct Anomaly: CanonicalRecord {
    public static let recordType = RecordType.anomaly
    static let version: UInt8 = 1
    /// Longest detail text, in UTF-8 bytes.
    public static let maxDetailBytes = 1024

    /// What was observed.
    public var kind: AnomalyKind
    /// Whose behaviour it concerns (usually a meter id).
    public var subject: KeyID
    /// SHA-256 of the evidence (for example the rejected record's bytes).
    public var evidenceHash: Hash256
    /// When it was observed, ms since the Unix epoch, UTC.
    public var timestamp: Int64
    /// Human-readable detail, at most `maxDetailBytes` UTF-8 bytes.
    public var detail: String

    /// Creates an anomaly record.
    /// - Throws: `RecordDecodingError.oversizeField` when `detail` is too long.
    public init(
        kind: AnomalyKind,
        subject: KeyID,
        evidenceHash: Hash256,
        timestamp: Int64,
        detail: String
    ) throws(RecordDecodingError) {
        let length = detail.utf8.count
        guard length <= Self.maxDetailBytes else {
            throw .oversizeField(field: "detail", length: length, limit: Self.maxDetailBytes)
        }
        self.kind = kind
        self.subject = subject
        self.evidenceHash = evidenceHash
        self.timestamp = timestamp
        self.detail = detail
    }

    public func canonicalBytes() -> [UInt8] {
        let text = Array(detail.utf8)
        var w = ByteWriter(capacity: 78 + text.count)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.u16(kind.rawValue)
        w.keyID(subject)
        w.hash(evidenceHash)
        w.i64(timestamp)
        w.u16(UInt16(truncatingIfNeeded: text.count))
        w.raw(text)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        let code = try r.u16("kind")
        guard let kind = AnomalyKind(rawValue: code) else {
            throw .invalidField(field: "kind", reason: "unknown anomaly kind \(code)")
        }
        self.kind = kind
        subject = try r.keyID("subject")
        evidenceHash = try r.hash("evidence_hash")
        timestamp = try r.i64("timestamp")
        let length = Int(try r.u16("detail length"))
        guard length <= Self.maxDetailBytes else {
            throw .oversizeField(field: "detail", length: length, limit: Self.maxDetailBytes)
        }
        let text = try r.raw(length, "detail")
        try r.finish()
        guard let detail = String(validating: text, as: UTF8.self) else { throw .invalidUTF8(field: "detail") }
        self.detail = detail
    }
}

/// Kinds of anomaly. Codes are fixed for Anomaly version 1.
public enum AnomalyKind: UInt16, Sendable, Hashable, CaseIterable {
    /// A record's signature did not verify.
    case badSignature = 1
    /// A meter skipped sequence numbers.
    case sequenceGap = 2
    /// A record was sent again (sequence number already used).
    case replay = 3
    /// A record came from a key that is not enrolled.
    case unknownMeter = 4
    /// A reading carried the tamper flag.
    case tamperFlag = 5
    /// A value outside what the meter can physically measure.
    case implausibleValue = 6
    /// A timestamp too far from the gateway's clock.
    case clockSkew = 7
    /// An offer asked for more than the producer's metered export plus the tolerance
    /// allows; the chain credits only the part the meter covers (see `OfferCredit`).
    case offerExceedsProduction = 8
    /// Anything else; the detail says what.
    case other = 0xffff
}

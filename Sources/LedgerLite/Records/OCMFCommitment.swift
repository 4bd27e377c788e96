import Crypto

/// A meter's commitment to one signed OCMF document (Open Charge Metering Format): the
/// document's pagination number, its settlement period, the P-256 key that signed it and
/// the SHA-256 of the exact OCMF string. Signed by the meter's Ed25519 key like a reading,
/// so the chain proves the gateway received that document, and the meter's signature binds
/// its OCMF key (OCMF allows only ECDSA) to its enrolled identity. The OCMF string itself
/// is kept beside the chain. Layout: docs/FORMATS.md, "OCMF commitment".
public struct OCMFCommitment: CanonicalRecord {
    public static let recordType = RecordType.ocmfCommitment
    static let version: UInt8 = 1
    /// Bytes of the canonical encoding (fixed size).
    public static let encodedBytes = 155
    /// Length of an uncompressed SEC 1 / X9.63 P-256 public key (`04 ‖ x ‖ y`).
    public static let publicKeyBytes = 65
    /// The longest settlement period one document may cover: one day.
    public static let maxPeriodMilliseconds: Int64 = 86_400_000

    /// The meter that signs this commitment (with its Ed25519 key) and its OCMF document.
    public let meter: MeterID
    /// The gateway the document is addressed to; only that gateway's chain takes it.
    public let gateway: GatewayID
    /// The OCMF pagination number (`PG` is `T` followed by it): 1 for the meter's first
    /// document, then +1 without gaps.
    public let pagination: UInt64
    /// Start of the settlement period, ms since the Unix epoch, UTC.
    public let periodStart: Int64
    /// End of the settlement period (exclusive), ms since the Unix epoch, UTC.
    public let periodEnd: Int64
    /// The P-256 public key that signed the OCMF document, uncompressed X9.63 (65 bytes).
    public let ocmfPublicKey: [UInt8]
    /// SHA-256 of the OCMF string's UTF-8 bytes, exactly as signed and sent.
    public let ocmfHash: Hash256

    /// Creates a commitment.
    /// - Throws: `RecordDecodingError` when `pagination` is 0, the period is empty, negative
    ///   or longer than a day, or `ocmfPublicKey` is not a P-256 point in X9.63 form.
    public init(
        meter: MeterID,
        gateway: GatewayID,
        pagination: UInt64,
        periodStart: Int64,
        periodEnd: Int64,
        ocmfPublicKey: [UInt8],
        ocmfHash: Hash256
    ) throws(RecordDecodingError) {
        signingKey = try Self.validate(
            pagination: pagination,
            periodStart: periodStart,
            periodEnd: periodEnd,
            key: ocmfPublicKey
        )
        self.meter = meter
        self.gateway = gateway
        self.pagination = pagination
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.ocmfPublicKey = ocmfPublicKey
        self.ocmfHash = ocmfHash
    }

    /// The OCMF key as a swift-crypto verifying key (the same key as `ocmfPublicKey`).
    public let signingKey: P256.Signing.PublicKey

    public static func == (a: OCMFCommitment, b: OCMFCommitment) -> Bool { a.canonicalBytes() == b.canonicalBytes() }
    public func hash(into hasher: inout Hasher) { hasher.combine(canonicalBytes()) }

    static func validate(
        pagination: UInt64,
        periodStart: Int64,
        periodEnd: Int64,
        key: [UInt8]
    ) throws(RecordDecodingError) -> P256.Signing.PublicKey {
        guard pagination >= 1 else {
            throw .invalidField(field: "pagination", reason: "OCMF pagination starts at 1")
        }
        guard periodStart >= 0 else {
            throw .invalidField(field: "period start", reason: "before 1970")
        }
        // periodStart ≥ 0, so the subtraction cannot overflow.
        guard periodEnd > periodStart, periodEnd - periodStart <= maxPeriodMilliseconds else {
            throw .invalidField(field: "period end", reason: "a period ends after it starts and lasts at most a day")
        }
        guard key.count == publicKeyBytes, key.first == 0x04 else {
            throw .invalidField(
                field: "ocmf public key",
                reason: "not an uncompressed P-256 public key (65 bytes, 04 ‖ x ‖ y)"
            )
        }
        do {
            return try P256.Signing.PublicKey(x963Representation: key)
        } catch {
            throw .invalidField(field: "ocmf public key", reason: "not a point on P-256")
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedBytes)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(meter)
        w.keyID(gateway)
        w.u64(pagination)
        w.i64(periodStart)
        w.i64(periodEnd)
        w.raw(ocmfPublicKey)
        w.hash(ocmfHash)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: Self.version...Self.version)
        meter = try r.keyID("meter")
        gateway = try r.keyID("gateway")
        pagination = try r.u64("pagination")
        periodStart = try r.i64("period start")
        periodEnd = try r.i64("period end")
        ocmfPublicKey = Array(try r.raw(Self.publicKeyBytes, "ocmf public key"))
        ocmfHash = try r.hash("ocmf hash")
        try r.finish()
        signingKey = try Self.validate(
            pagination: pagination,
            periodStart: periodStart,
            periodEnd: periodEnd,
            key: ocmfPublicKey
        )
    }
}

/// A gateway records its side of an escalated request: the super node's signed decision,
/// verbatim. Signed by the gateway. Layout: docs/FORMATS.md, "Escalation".
///
/// - Producer side (`role == .producer`), on the producer's gateway: the producer serves
///   the request; its available energy drops by the amount, its energy served rises by it
///   and its TNT by one. `producerTNTBefore` is its TNT just before (checked on replay).
/// - Consumer side (`role == .consumer`), on the consumer's gateway: the consumer's latest
///   unserved request is answered by the remote producer. `producerTNTBefore` is 0.
public struct Escalation: CanonicalRecord {
    public static let recordType = RecordType.escalation
    static let version: UInt8 = 1

    /// Which side of the escalation this chain is on.
    public var role: MeterRole
    /// Producer side: the producer's TNT before this record; consumer side: 0.
    public var producerTNTBefore: UInt64
    /// The super node's decision, signed by the root key, verbatim.
    public var decision: SignedEscalationDecision

    /// Creates an escalation record.
    /// - Throws: `RecordDecodingError.invalidField` for a consumer side with a TNT.
    public init(
        role: MeterRole,
        producerTNTBefore: UInt64,
        decision: SignedEscalationDecision
    ) throws(RecordDecodingError) {
        self.role = role
        self.producerTNTBefore = producerTNTBefore
        self.decision = decision
        try validate()
    }

    func validate() throws(RecordDecodingError) {
        guard role == .producer || producerTNTBefore == 0 else {
            throw .invalidField(
                field: "producer_tnt_before",
                reason: "the consumer side of an escalation carries TNT 0"
            )
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 13 + decision.bytes.count)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.u8(role.rawValue)
        w.u64(producerTNTBefore)
        w.u16(UInt16(truncatingIfNeeded: decision.bytes.count))
        w.raw(decision.bytes)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        let roleByte = try r.u8("role")
        guard let role = MeterRole(rawValue: roleByte) else {
            throw .invalidField(field: "role", reason: "unknown role \(roleByte)")
        }
        self.role = role
        producerTNTBefore = try r.u64("producer_tnt_before")
        let length = Int(try r.u16("decision_length"))
        guard length == SignedEscalationDecision.encodedLength else {
            throw .invalidField(
                field: "decision_length",
                reason: "a version 1 signed decision is \(SignedEscalationDecision.encodedLength) bytes, not \(length)"
            )
        }
        decision = try SignedEscalationDecision(bytes: try r.raw(length, "decision"))
        try r.finish()
        try validate()
    }
}

/// The gateway records which super node it answers to: the root public key and the
/// certificate that root key issued for this gateway. Escalation decisions on the chain
/// are checked against the latest such record. Signed by the gateway. Layout:
/// docs/FORMATS.md, "Authority".
public struct AuthorityRecord: CanonicalRecord {
    public static let recordType = RecordType.authority
    static let version: UInt8 = 1
    /// Largest signed certificate carried, in bytes (a 128-byte name, 68 fixed bytes, 64 of signature).
    static let maxCertificateBytes = 68 + GatewayCertificate.maxNameBytes + 64

    /// The super node's root public key.
    public var rootKey: PublicIdentity
    /// The certificate the root key issued for this gateway's key, verbatim.
    public var certificate: SignedGatewayCertificate
    /// When the gateway adopted it, ms since the Unix epoch, UTC.
    public var timestamp: Int64

    /// Creates an authority record.
    public init(rootKey: PublicIdentity, certificate: SignedGatewayCertificate, timestamp: Int64) {
        self.rootKey = rootKey
        self.certificate = certificate
        self.timestamp = timestamp
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 44 + certificate.bytes.count)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.raw(rootKey.rawBytes)
        w.i64(timestamp)
        w.u16(UInt16(truncatingIfNeeded: certificate.bytes.count))
        w.raw(certificate.bytes)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        let raw = try r.raw(32, "root_key")
        do { rootKey = try PublicIdentity(rawBytes: raw) } catch {
            throw .invalidField(field: "root_key", reason: error.description)
        }
        timestamp = try r.i64("timestamp")
        let length = Int(try r.u16("certificate_length"))
        guard length <= Self.maxCertificateBytes else {
            throw .oversizeField(field: "certificate", length: length, limit: Self.maxCertificateBytes)
        }
        certificate = try SignedGatewayCertificate(bytes: Array(try r.raw(length, "certificate")))
        try r.finish()
    }
}

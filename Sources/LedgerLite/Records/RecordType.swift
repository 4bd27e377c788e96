/// The first byte of every canonical record body.
public enum RecordType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case reading = 0x01
    case offer = 0x02
    case request = 0x03
    case dispatch = 0x04
    case enrollment = 0x05
    case revocation = 0x06
    case anomaly = 0x07
    case policy = 0x08
    case escalation = 0x09
    case authority = 0x0a
    case ocmfCommitment = 0x0b

    /// True for records the gateway signs (dispatch, enrollment, revocation, anomaly, policy,
    /// escalation, authority);
    /// false for records a meter signs (reading, offer, request, OCMF commitment).
    public var isGatewayAuthored: Bool {
        switch self {
        case .reading, .offer, .request, .ocmfCommitment: return false
        case .dispatch, .enrollment, .revocation, .anomaly, .policy, .escalation, .authority: return true
        }
    }

    public var description: String {
        switch self {
        case .reading: return "reading"
        case .offer: return "offer"
        case .request: return "request"
        case .dispatch: return "dispatch"
        case .enrollment: return "enrollment"
        case .revocation: return "revocation"
        case .anomaly: return "anomaly"
        case .policy: return "policy"
        case .escalation: return "escalation"
        case .authority: return "authority"
        case .ocmfCommitment: return "ocmf-commitment"
        }
    }
}

/// A record with a versioned canonical binary encoding (see docs/FORMATS.md).
public protocol CanonicalRecord: Sendable, Hashable {
    /// The type byte this record's encoding starts with.
    static var recordType: RecordType { get }
    /// The canonical bytes: type byte, version byte, then the fields, big-endian.
    func canonicalBytes() -> [UInt8]
    /// Decodes canonical bytes, rejecting anything that would not re-encode identically.
    init(canonicalBytes: ArraySlice<UInt8>) throws(RecordDecodingError)
}

extension CanonicalRecord {
    /// Decodes canonical bytes.
    public init(canonicalBytes bytes: [UInt8]) throws(RecordDecodingError) {
        try self.init(canonicalBytes: bytes[...])
    }
}

/// Any record, as decoded from canonical bytes whose first byte selects the type.
public enum Record: Sendable, Hashable {
    case reading(Reading)
    case offer(Offer)
    case request(EnergyRequest)
    case dispatch(Dispatch)
    case enrollment(Enrollment)
    case revocation(Revocation)
    case anomaly(Anomaly)
    case policy(PolicyRecord)
    case escalation(Escalation)
    case authority(AuthorityRecord)
    case ocmfCommitment(OCMFCommitment)

    /// Decodes any record type from its canonical bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        guard let first = bytes.first else { throw .truncated(field: "record type", needed: 1, remaining: 0) }
        guard let type = RecordType(rawValue: first) else { throw .unknownRecordType(first) }
        switch type {
        case .reading: self = .reading(try Reading(canonicalBytes: bytes))
        case .offer: self = .offer(try Offer(canonicalBytes: bytes))
        case .request: self = .request(try EnergyRequest(canonicalBytes: bytes))
        case .dispatch: self = .dispatch(try Dispatch(canonicalBytes: bytes))
        case .enrollment: self = .enrollment(try Enrollment(canonicalBytes: bytes))
        case .revocation: self = .revocation(try Revocation(canonicalBytes: bytes))
        case .anomaly: self = .anomaly(try Anomaly(canonicalBytes: bytes))
        case .policy: self = .policy(try PolicyRecord(canonicalBytes: bytes))
        case .escalation: self = .escalation(try Escalation(canonicalBytes: bytes))
        case .authority: self = .authority(try AuthorityRecord(canonicalBytes: bytes))
        case .ocmfCommitment: self = .ocmfCommitment(try OCMFCommitment(canonicalBytes: bytes))
        }
    }

    /// Decodes any record type from its canonical bytes.
    public init(canonicalBytes bytes: [UInt8]) throws(RecordDecodingError) {
        try self.init(canonicalBytes: bytes[...])
    }

    /// The record's type.
    public var type: RecordType {
        switch self {
        case .reading: return .reading
        case .offer: return .offer
        case .request: return .request
        case .dispatch: return .dispatch
        case .enrollment: return .enrollment
        case .revocation: return .revocation
        case .anomaly: return .anomaly
        case .policy: return .policy
        case .escalation: return .escalation
        case .authority: return .authority
        case .ocmfCommitment: return .ocmfCommitment
        }
    }

    /// The canonical bytes of the wrapped record.
    public func canonicalBytes() -> [UInt8] {
        switch self {
        case let .reading(r): return r.canonicalBytes()
        case let .offer(r): return r.canonicalBytes()
        case let .request(r): return r.canonicalBytes()
        case let .dispatch(r): return r.canonicalBytes()
        case let .enrollment(r): return r.canonicalBytes()
        case let .revocation(r): return r.canonicalBytes()
        case let .anomaly(r): return r.canonicalBytes()
        case let .policy(r): return r.canonicalBytes()
        case let .escalation(r): return r.canonicalBytes()
        case let .authority(r): return r.canonicalBytes()
        case let .ocmfCommitment(r): return r.canonicalBytes()
        }
    }

    /// The meter that must sign this record, or nil when the gateway signs it.
    public var meterAuthor: MeterID? {
        switch self {
        case let .reading(r): return r.meter
        case let .offer(r): return r.producer
        case let .request(r): return r.consumer
        case let .ocmfCommitment(r): return r.meter
        case .dispatch, .enrollment, .revocation, .anomaly, .policy, .escalation, .authority: return nil
        }
    }
}

/// The rules every chain entry must follow, applied in order: who may sign what, per-meter
/// sequence numbers, and the TNT machine. The block builder uses it to refuse a bad entry
/// and the verifier uses the same code to replay a chain, so both judge alike.
///
/// It does not check signatures; `signingKey(for:)` says which key must have signed.
public struct ChainState: Sendable {
    /// The gateway whose key signs dispatches, enrollments, revocations, anomalies and
    /// policy records.
    public let gatewayKey: PublicIdentity
    /// The TNT table after the entries applied so far.
    public private(set) var tnt = TNTState()
    private var keys: [MeterID: PublicIdentity] = [:]
    private var lastReading: [MeterID: UInt64] = [:]
    private var lastOffer: [MeterID: UInt64] = [:]
    private var lastRequest: [MeterID: UInt64] = [:]

    /// An empty chain's state for this gateway.
    public init(gatewayKey: PublicIdentity) {
        self.gatewayKey = gatewayKey
    }

    /// The enrolled key of `meter` (active or revoked), if it was ever enrolled.
    public func key(of meter: MeterID) -> PublicIdentity? { keys[meter] }

    /// The sequence number the meter's next reading must carry.
    public func nextReadingSequence(of meter: MeterID) -> UInt64 { (lastReading[meter] ?? 0) + 1 }

    /// The key that must have signed `entry`: the gateway's for gateway records, else the
    /// author meter's enrolled key.
    /// - Throws: `RuleViolation` when the envelope names another signer, or the meter is
    ///   not enrolled or has been revoked.
    public func signingKey(for entry: SignedRecord) throws(RuleViolation) -> PublicIdentity {
        guard let meter = entry.record.meterAuthor else {
            guard entry.signer == gatewayKey.id else {
                throw .signerMismatch(signer: entry.signer, expected: gatewayKey.id, type: entry.record.type)
            }
            return gatewayKey
        }
        guard entry.signer == meter else { throw .signerMismatch(signer: entry.signer, expected: meter, type: entry.record.type) }
        guard let key = keys[meter] else { throw .unknownSigner(meter) }
        guard tnt.status(of: meter)?.active == true else { throw .tnt(.revoked(meter)) }
        return key
    }

    /// Applies one entry. On error nothing changes.
    public mutating func apply(_ entry: SignedRecord) throws(RuleViolation) {
        try apply(entry, enforcingDispatchRule: true)
    }

    mutating func apply(_ entry: SignedRecord, enforcingDispatchRule: Bool) throws(RuleViolation) {
        _ = try signingKey(for: entry)
        switch entry.record {
        case let .reading(r):
            let expected = nextReadingSequence(of: r.meter)
            guard r.sequence == expected else {
                throw r.sequence > expected
                    ? .sequenceGap(r.meter, expected: expected, found: r.sequence)
                    : .sequenceReplay(r.meter, expected: expected, found: r.sequence)
            }
            try applyTNT(entry.record, enforcingDispatchRule)
            lastReading[r.meter] = r.sequence
        case let .offer(o):
            if let last = lastOffer[o.producer], o.sequence <= last {
                throw .sequenceNotIncreasing(o.producer, type: .offer, last: last, found: o.sequence)
            }
            try applyTNT(entry.record, enforcingDispatchRule)
            lastOffer[o.producer] = o.sequence
        case let .request(q):
            if let last = lastRequest[q.consumer], q.sequence <= last {
                throw .sequenceNotIncreasing(q.consumer, type: .request, last: last, found: q.sequence)
            }
            try applyTNT(entry.record, enforcingDispatchRule)
            lastRequest[q.consumer] = q.sequence
        case let .enrollment(e):
            try applyTNT(entry.record, enforcingDispatchRule)
            keys[e.meter] = e.meterKey
        case .revocation, .dispatch, .anomaly, .policy:
            try applyTNT(entry.record, enforcingDispatchRule)
        }
    }

    private mutating func applyTNT(_ record: Record, _ enforcing: Bool) throws(RuleViolation) {
        do {
            try tnt.apply(record, enforcingRule: enforcing)
        } catch {
            throw .tnt(error)
        }
    }
}

/// Why an entry breaks the chain's rules.
public enum RuleViolation: Error, Hashable, Sendable, CustomStringConvertible {
    /// The envelope's signer is not who must sign this record type.
    case signerMismatch(signer: KeyID, expected: KeyID, type: RecordType)
    /// A meter record from a key that was never enrolled.
    case unknownSigner(MeterID)
    /// A reading skipped sequence numbers (a reading is missing before it).
    case sequenceGap(MeterID, expected: UInt64, found: UInt64)
    /// A reading reuses an old sequence number (replay or duplicate).
    case sequenceReplay(MeterID, expected: UInt64, found: UInt64)
    /// An offer or request sequence number did not increase.
    case sequenceNotIncreasing(MeterID, type: RecordType, last: UInt64, found: UInt64)
    /// The TNT machine refused the record.
    case tnt(TNTError)

    public var description: String {
        switch self {
        case let .signerMismatch(signer, expected, type):
            return "\(type) is signed by key \(signer.hex) but must be signed by \(expected.hex)"
        case let .unknownSigner(meter): return "meter \(meter.hex) is not enrolled on this chain"
        case let .sequenceGap(meter, expected, found):
            let missing = found - expected == 1 ? "reading \(expected) is missing" : "readings \(expected)…\(found - 1) are missing"
            return "reading sequence gap for meter \(meter.hex): expected \(expected), found \(found) (\(missing))"
        case let .sequenceReplay(meter, expected, found):
            return "reading sequence \(found) of meter \(meter.hex) was already used (expected \(expected)): replay or duplicate"
        case let .sequenceNotIncreasing(meter, type, last, found):
            return "\(type) sequence \(found) of meter \(meter.hex) is not after the previous \(last)"
        case let .tnt(error): return error.description
        }
    }
}

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
    public internal(set) var tnt = TNTState()
    var keys: [MeterID: PublicIdentity] = [:]
    var lastReading: [MeterID: UInt64] = [:]
    var lastOffer: [MeterID: UInt64] = [:]
    var lastRequest: [MeterID: UInt64] = [:]
    /// Each meter's last OCMF pagination number on the chain, and the end of that document's period.
    var lastOCMF: [MeterID: (pagination: UInt64, periodEnd: Int64)] = [:]
    /// The latest Authority record: the root key escalation decisions must be signed by.
    public internal(set) var authority: AuthorityRecord?
    /// SHA-256 of each pending request's signed body (until its dispatch).
    var pendingRequestHashes: [RequestReference: Hash256] = [:]
    /// Each consumer's latest request recorded unserved, until it is escalated or a later
    /// unserved request of the consumer replaces it: the only request of that consumer an
    /// escalation's consumer side may answer.
    var escalatable: [MeterID: EscalatableRequest] = [:]
    /// Escalation decision ids already on the chain (either side).
    var decisionIDs: Set<UInt64> = []

    /// An empty chain's state for this gateway.
    public init(gatewayKey: PublicIdentity) {
        self.gatewayKey = gatewayKey
    }

    /// The enrolled key of `meter` (active or revoked), if it was ever enrolled.
    public func key(of meter: MeterID) -> PublicIdentity? { keys[meter] }

    /// The consumer's request that an escalation's consumer side may answer now: its
    /// latest request recorded unserved and not yet escalated.
    public func escalatableRequest(of consumer: MeterID) -> EscalatableRequest? { escalatable[consumer] }

    /// True when an escalation with this decision id is already on the chain.
    public func hasEscalation(decisionID: UInt64) -> Bool { decisionIDs.contains(decisionID) }

    /// The TNT state digest a block header of `headerVersion` commits to
    /// (`TNTState.digest(forHeaderVersion:)`).
    public mutating func stateDigest(forHeaderVersion headerVersion: UInt8) -> Hash256 {
        tnt.digest(forHeaderVersion: headerVersion)
    }

    /// The sequence number the meter's next reading must carry.
    public func nextReadingSequence(of meter: MeterID) -> UInt64 { (lastReading[meter] ?? 0) + 1 }

    /// The pagination number the meter's next OCMF commitment must carry.
    public func nextOCMFPagination(of meter: MeterID) -> UInt64 { (lastOCMF[meter]?.pagination ?? 0) + 1 }

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
        guard entry.signer == meter else {
            throw .signerMismatch(signer: entry.signer, expected: meter, type: entry.record.type)
        }
        guard let key = keys[meter] else { throw .unknownSigner(meter) }
        guard tnt.status(of: meter)?.active == true else { throw .tnt(.revoked(meter)) }
        return key
    }

    /// Applies one entry. On error nothing changes.
    public mutating func apply(_ entry: SignedRecord) throws(RuleViolation) {
        try apply(entry, enforcingDispatchRule: true)
    }

    /// The rules an entry must meet before it may change anything, in the order the chain
    /// decides them: who signs it (the gateway, or the meter it names, enrolled and not
    /// revoked), that a reading's sequence number is the meter's next one and an offer's or a
    /// request's is above the meter's last, that a reading naming a gateway names this chain's
    /// gateway, that an OCMF commitment names this chain's gateway and the meter's next
    /// pagination number with a period after its previous one, and that an offer comes from a producer and a
    /// request from a consumer. `apply` starts with exactly this check, so a gateway that
    /// asks it before its own admission policies decides as a verifier replaying the chain.
    /// - Returns: the key that must have signed the entry.
    public func admit(_ entry: SignedRecord) throws(RuleViolation) -> PublicIdentity {
        let key = try signingKey(for: entry)
        switch entry.record {
        case let .reading(r):
            // A version 1 reading names no gateway: chains written before version 2 hold
            // them, so the chain takes them; when a gateway still takes new ones is its policy.
            if let named = r.gateway, named != gatewayKey.id {
                throw .readingForOtherGateway(r.meter, sequence: r.sequence, named: named, gateway: gatewayKey.id)
            }
            let expected = nextReadingSequence(of: r.meter)
            guard r.sequence == expected else {
                throw r.sequence > expected
                    ? .sequenceGap(r.meter, expected: expected, found: r.sequence)
                    : .sequenceReplay(r.meter, expected: expected, found: r.sequence)
            }
        case let .offer(o):
            if let last = lastOffer[o.producer], o.sequence <= last {
                throw .sequenceNotIncreasing(o.producer, type: .offer, last: last, found: o.sequence)
            }
            do { try tnt.requireActiveMember(o.producer, needs: .producer) } catch { throw .tnt(error) }
        case let .request(q):
            if let last = lastRequest[q.consumer], q.sequence <= last {
                throw .sequenceNotIncreasing(q.consumer, type: .request, last: last, found: q.sequence)
            }
            do { try tnt.requireActiveMember(q.consumer, needs: .consumer) } catch { throw .tnt(error) }
        case let .escalation(e):
            try checkEscalation(role: e.role, decision: e.decision, rootKey: authority?.rootKey)
        case let .ocmfCommitment(c):
            guard c.gateway == gatewayKey.id else {
                throw .ocmfForOtherGateway(c.meter, pagination: c.pagination, named: c.gateway, gateway: gatewayKey.id)
            }
            let expected = nextOCMFPagination(of: c.meter)
            guard c.pagination == expected else {
                throw c.pagination > expected
                    ? .ocmfPaginationGap(c.meter, expected: expected, found: c.pagination)
                    : .ocmfPaginationReplay(c.meter, expected: expected, found: c.pagination)
            }
            // One document per settlement period: periods follow one another, never overlap.
            if let previousEnd = lastOCMF[c.meter]?.periodEnd, c.periodStart < previousEnd {
                throw .ocmfPeriodOverlap(
                    c.meter,
                    pagination: c.pagination,
                    start: c.periodStart,
                    previousEnd: previousEnd
                )
            }
        default:
            break
        }
        return key
    }

    mutating func apply(_ entry: SignedRecord, enforcingDispatchRule: Bool) throws(RuleViolation) {
        _ = try admit(entry)
        switch entry.record {
        case let .reading(r):
            try applyTNT(entry.record, enforcingDispatchRule)
            lastReading[r.meter] = r.sequence
        case let .offer(o):
            try applyTNT(entry.record, enforcingDispatchRule)
            lastOffer[o.producer] = o.sequence
        case let .request(q):
            try applyTNT(entry.record, enforcingDispatchRule)
            lastRequest[q.consumer] = q.sequence
            pendingRequestHashes[q.reference] = Hash256.sha256(entry.body)
        case let .enrollment(e):
            try applyTNT(entry.record, enforcingDispatchRule)
            keys[e.meter] = e.meterKey
        case let .dispatch(d):
            let energy = tnt.pendingEnergy(of: d.request)
            try applyTNT(entry.record, enforcingDispatchRule)
            let hash = pendingRequestHashes.removeValue(forKey: d.request)
            if d.outcome == .unserved, let energy, let hash {
                escalatable[d.request.consumer] = EscalatableRequest(
                    request: d.request,
                    energyWh: energy,
                    requestHash: hash
                )
            }
        case let .authority(a):
            let cert = a.certificate
            guard cert.certificate.gatewayKey == gatewayKey else {
                throw .authorityMismatch(
                    "the certificate is for gateway \(cert.certificate.gateway.hex), not this chain's gateway \(gatewayKey.id.hex)"
                )
            }
            guard cert.isSignatureValid(by: a.rootKey) else {
                throw .authorityMismatch(
                    "certificate serial \(cert.certificate.serial) is not signed by the recorded root key \(a.rootKey.id.hex)"
                )
            }
            authority = a
        case let .escalation(e):
            try applyTNT(entry.record, enforcingDispatchRule)
            let d = e.decision.decision
            decisionIDs.insert(d.decisionID)
            if e.role == .consumer { escalatable[d.consumer] = nil }
        case .revocation, .anomaly, .policy:
            try applyTNT(entry.record, enforcingDispatchRule)
        case let .ocmfCommitment(c):
            lastOCMF[c.meter] = (c.pagination, c.periodEnd)
        }
    }

    /// The chain rules of an escalation record, before its TNT effect: the decision is
    /// signed by the root key (on the chain: the recorded one; a gateway about to record a
    /// new authority record passes its root key), names this gateway on the record's side,
    /// is new on this chain, and (consumer side) answers the consumer's escalatable request
    /// exactly.
    public func checkEscalation(
        role: MeterRole,
        decision: SignedEscalationDecision,
        rootKey: PublicIdentity?
    ) throws(RuleViolation) {
        let d = decision.decision
        guard let rootKey else { throw .escalationWithoutAuthority(decisionID: d.decisionID) }
        guard decision.isSignatureValid(by: rootKey) else {
            throw .escalationNotSignedByRoot(decisionID: d.decisionID, issuer: d.issuer, root: rootKey.id)
        }
        let named = role == .producer ? d.producerGateway : d.consumerGateway
        guard named == gatewayKey.id else {
            throw .escalationWrongGateway(decisionID: d.decisionID, role: role, named: named, gateway: gatewayKey.id)
        }
        guard !decisionIDs.contains(d.decisionID) else { throw .escalationReplayed(decisionID: d.decisionID) }
        if role == .consumer {
            guard let open = escalatable[d.consumer] else {
                throw .escalationNotEscalatable(
                    decisionID: d.decisionID,
                    d.request,
                    reason: "consumer \(d.consumer.hex) has no request recorded unserved and not yet escalated"
                )
            }
            guard open.request == d.request else {
                throw .escalationNotEscalatable(
                    decisionID: d.decisionID,
                    d.request,
                    reason: "the consumer's latest unserved request is \(open.request.sequence)"
                )
            }
            guard open.requestHash == d.requestHash else {
                throw .escalationNotEscalatable(
                    decisionID: d.decisionID,
                    d.request,
                    reason: "the request hash differs from the request on this chain"
                )
            }
            guard open.energyWh == d.energyWh else {
                throw .escalationNotEscalatable(
                    decisionID: d.decisionID,
                    d.request,
                    reason: "it delivers \(d.energyWh) Wh but the request asked for \(open.energyWh) Wh"
                )
            }
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
    /// A reading addressed to another gateway (version 2 names its gateway in the signed
    /// bytes): taken elsewhere and replayed here, or sent by an agent pointed at the wrong
    /// gateway.
    case readingForOtherGateway(MeterID, sequence: UInt64, named: GatewayID, gateway: GatewayID)
    /// An offer or request sequence number did not increase.
    case sequenceNotIncreasing(MeterID, type: RecordType, last: UInt64, found: UInt64)
    /// The TNT machine refused the record.
    case tnt(TNTError)
    /// An Authority record whose certificate is not this gateway's or not the root key's.
    case authorityMismatch(String)
    /// An escalation before any Authority record: no root key to check it against.
    case escalationWithoutAuthority(decisionID: UInt64)
    /// An escalation decision not signed by the recorded root key.
    case escalationNotSignedByRoot(decisionID: UInt64, issuer: KeyID, root: KeyID)
    /// An escalation decision that names another gateway on the record's side.
    case escalationWrongGateway(decisionID: UInt64, role: MeterRole, named: GatewayID, gateway: GatewayID)
    /// An escalation decision id already on the chain.
    case escalationReplayed(decisionID: UInt64)
    /// The consumer side of an escalation answers a request that is not the consumer's
    /// escalatable one (served, not on the chain, already escalated, or other contents).
    case escalationNotEscalatable(decisionID: UInt64, RequestReference, reason: String)
    /// An OCMF commitment addressed to another gateway.
    case ocmfForOtherGateway(MeterID, pagination: UInt64, named: GatewayID, gateway: GatewayID)
    /// An OCMF commitment skipped pagination numbers (a document is missing before it).
    case ocmfPaginationGap(MeterID, expected: UInt64, found: UInt64)
    /// An OCMF commitment reuses a pagination number already on the chain.
    case ocmfPaginationReplay(MeterID, expected: UInt64, found: UInt64)
    /// An OCMF commitment whose period starts before the meter's previous document's period ended.
    case ocmfPeriodOverlap(MeterID, pagination: UInt64, start: Int64, previousEnd: Int64)

    public var description: String {
        switch self {
        case let .signerMismatch(signer, expected, type):
            return "\(type) is signed by key \(signer.hex) but must be signed by \(expected.hex)"
        case let .unknownSigner(meter): return "meter \(meter.hex) is not enrolled on this chain"
        case let .sequenceGap(meter, expected, found):
            let missing =
                found - expected == 1
                ? "reading \(expected) is missing" : "readings \(expected)…\(found - 1) are missing"
            return "reading sequence gap for meter \(meter.hex): expected \(expected), found \(found) (\(missing))"
        case let .sequenceReplay(meter, expected, found):
            return
                "reading sequence \(found) of meter \(meter.hex) was already used (expected \(expected)): replay or duplicate"
        case let .readingForOtherGateway(meter, sequence, named, gateway):
            return
                "reading \(sequence) of meter \(meter.hex) is addressed to gateway \(named.hex), not this chain's gateway \(gateway.hex)"
        case let .sequenceNotIncreasing(meter, type, last, found):
            return "\(type) sequence \(found) of meter \(meter.hex) is not after the previous \(last)"
        case let .tnt(error): return error.description
        case let .authorityMismatch(reason): return "authority record refused: \(reason)"
        case let .escalationWithoutAuthority(id):
            return "escalation decision \(id) appears before any authority record, so no root key can vouch for it"
        case let .escalationNotSignedByRoot(id, issuer, root):
            return "escalation decision \(id) (issuer \(issuer.hex)) is not signed by the recorded root key \(root.hex)"
        case let .escalationWrongGateway(id, role, named, gateway):
            return
                "escalation decision \(id) names gateway \(named.hex) as the \(role) gateway, not this chain's gateway \(gateway.hex)"
        case let .escalationReplayed(id): return "escalation decision \(id) is already on the chain"
        case let .escalationNotEscalatable(id, request, reason):
            return "escalation decision \(id) answers \(request), which cannot be escalated here: \(reason)"
        case let .ocmfForOtherGateway(meter, pagination, named, gateway):
            return
                "OCMF document T\(pagination) of meter \(meter.hex) is addressed to gateway \(named.hex), not this chain's gateway \(gateway.hex)"
        case let .ocmfPaginationGap(meter, expected, found):
            return
                "OCMF pagination gap for meter \(meter.hex): expected T\(expected), found T\(found) (documents T\(expected)…T\(found - 1) are missing)"
        case let .ocmfPaginationReplay(meter, expected, found):
            return
                "OCMF pagination T\(found) of meter \(meter.hex) is already on the chain (expected T\(expected)): replay or duplicate"
        case let .ocmfPeriodOverlap(meter, pagination, start, previousEnd):
            return
                "OCMF document T\(pagination) of meter \(meter.hex) starts its period at \(start) ms, before the previous document's period ended (\(previousEnd) ms): one document per period"
        }
    }
}

/// A consumer's request that was recorded unserved and may still be escalated.
public struct EscalatableRequest: Hashable, Sendable {
    /// The request.
    public var request: RequestReference
    /// Energy it asked for, Wh.
    public var energyWh: UInt64
    /// SHA-256 of the request's signed body.
    public var requestHash: Hash256
}

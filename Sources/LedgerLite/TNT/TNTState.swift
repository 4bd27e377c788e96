/// The TNT dispatch rule as a pure, deterministic state machine.
///
/// It holds each enrolled meter's role, every producer's available energy (Wh) and TNT
/// (total number of requests it has served), and the requests not yet answered. It
/// changes only by `apply(_:)`, so anyone replaying the same records reaches the same
/// state, the same decisions and the same `digest()`.
///
/// The rule (`decide`): among active producers whose available energy covers the request,
/// the one with the lowest TNT; ties go to the lowest producer id; if none, unserved.
/// A decision costs O(log n) (see `ProducerIndex`); `naiveDecide` is the O(n) reference.
public struct TNTState: Sendable {
    struct Member: Sendable, Equatable {
        var role: MeterRole
        var active: Bool
        var available: UInt64
        var tnt: UInt64
        var handle: Int32
    }

    private var members: [KeyID: Member] = [:]
    private var index = ProducerIndex()
    private var pending: [RequestReference: UInt64] = [:]

    /// An empty state: no meters, no requests.
    public init() {}

    /// A meter's entry in the table.
    public func status(of meter: MeterID) -> MeterStatus? {
        members[meter].map { MeterStatus(role: $0.role, active: $0.active, availableWh: $0.available, tnt: $0.tnt) }
    }

    /// Number of meters ever enrolled (active or revoked).
    public var meterCount: Int { members.count }

    /// Energy (Wh) of an unanswered request, nil if it is not pending.
    public func pendingEnergy(of request: RequestReference) -> UInt64? { pending[request] }

    /// Requests not yet answered by a Dispatch.
    public var pendingRequests: [RequestReference] { pending.keys.sorted() }

    // MARK: the rule

    /// The rule's choice for a request of `energyWh`, in O(log n).
    public func decide(energyWh: UInt64) -> DispatchOutcome {
        guard let handle = index.leftmost(atLeast: energyWh) else { return .unserved }
        let node = index.node(handle)
        return .served(producer: node.id, energyWh: energyWh, producerTNTBefore: node.tnt)
    }

    /// The same rule by scanning every producer: O(n), for tests and benchmarks.
    public func naiveDecide(energyWh: UInt64) -> DispatchOutcome {
        var best: (id: KeyID, tnt: UInt64)?
        for (id, m) in members where m.role == .producer && m.active && m.available >= energyWh {
            if let b = best, (b.tnt, b.id) <= (m.tnt, id) { continue }
            best = (id, m.tnt)
        }
        guard let best else { return .unserved }
        return .served(producer: best.id, energyWh: energyWh, producerTNTBefore: best.tnt)
    }

    /// The Dispatch record the rule gives for a pending request.
    /// - Throws: `TNTError.unknownRequest` if the request is not pending.
    public func dispatch(for request: RequestReference) throws(TNTError) -> Dispatch {
        guard let energy = pending[request] else { throw .unknownRequest(request) }
        do {
            return try Dispatch(request: request, policy: .lowestTNT, outcome: decide(energyWh: energy))
        } catch {
            throw .unknownRequest(request)  // unreachable: decide never yields a 0 Wh service
        }
    }

    // MARK: transitions

    /// Applies one record. Readings and anomalies do not change the state.
    /// On error the state is unchanged.
    public mutating func apply(_ record: Record) throws(TNTError) {
        try apply(record, enforcingRule: true)
    }

    /// `enforcingRule: false` accepts any feasible dispatch (used to build deliberately
    /// unfair chains in tests; a verifier always enforces).
    mutating func apply(_ record: Record, enforcingRule: Bool) throws(TNTError) {
        switch record {
        case .reading, .anomaly, .policy:
            return
        case let .enrollment(e):
            try enroll(e.meter, role: e.role)
        case let .revocation(r):
            try revoke(r.meter, role: r.role)
        case let .offer(o):
            var m = try activeMember(o.producer, needs: .producer)
            let (sum, overflow) = m.available.addingReportingOverflow(o.energyWh)
            guard !overflow else { throw .energyOverflow(o.producer) }
            m.available = sum
            members[o.producer] = m
            index.update(m.handle, tnt: m.tnt, available: m.available)
        case let .request(q):
            _ = try activeMember(q.consumer, needs: .consumer)
            guard pending[q.reference] == nil else { throw .duplicateRequest(q.reference) }
            pending[q.reference] = q.energyWh
        case let .dispatch(d):
            try applyDispatch(d, enforcingRule: enforcingRule)
        }
    }

    private mutating func enroll(_ meter: MeterID, role: MeterRole) throws(TNTError) {
        if var m = members[meter] {
            guard !m.active else { throw .alreadyEnrolled(meter) }
            guard m.role == role else { throw .roleMismatch(meter, enrolled: m.role, claimed: role) }
            m.active = true
            members[meter] = m
            if role == .producer { index.link(m.handle) }
            return
        }
        var handle: Int32 = -1
        if role == .producer {
            handle = index.makeNode(id: meter, tnt: 0, available: 0)
            index.link(handle)
        }
        members[meter] = Member(role: role, active: true, available: 0, tnt: 0, handle: handle)
    }

    private mutating func revoke(_ meter: MeterID, role: MeterRole) throws(TNTError) {
        guard var m = members[meter] else { throw .notEnrolled(meter) }
        guard m.active else { throw .revoked(meter) }
        guard m.role == role else { throw .roleMismatch(meter, enrolled: m.role, claimed: role) }
        m.active = false
        members[meter] = m
        if role == .producer { index.unlink(m.handle) }
    }

    private func activeMember(_ meter: MeterID, needs role: MeterRole) throws(TNTError) -> Member {
        guard let m = members[meter] else { throw .notEnrolled(meter) }
        guard m.active else { throw .revoked(meter) }
        guard m.role == role else { throw .wrongRole(meter, has: m.role, needs: role) }
        return m
    }

    private mutating func applyDispatch(_ d: Dispatch, enforcingRule: Bool) throws(TNTError) {
        guard let energy = pending[d.request] else { throw .unknownRequest(d.request) }
        if enforcingRule {
            let expected = decide(energyWh: energy)
            guard d.policy == .lowestTNT, d.outcome == expected else {
                throw .dispatchMismatch(d.request, expected: expected, recorded: d.outcome)
            }
        }
        if case .split = d.outcome { throw .dispatchMismatch(d.request, expected: decide(energyWh: energy), recorded: d.outcome) }
        if case let .served(producer, amount, _) = d.outcome {
            var m = try activeMember(producer, needs: .producer)
            guard amount == energy, m.available >= amount else {
                throw .infeasibleDispatch(d.request, producer: producer)
            }
            m.available -= amount
            m.tnt += 1
            members[producer] = m
            index.update(m.handle, tnt: m.tnt, available: m.available)
        }
        pending[d.request] = nil
    }

    // MARK: digest

    /// The canonical encoding of the whole state (docs/FORMATS.md, "TNT state"):
    /// meters sorted by id, then pending requests sorted by (consumer, sequence).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 10 + members.count * 34 + pending.count * 32)
        w.u8(0x20)
        w.u8(1)
        w.u32(UInt32(truncatingIfNeeded: members.count))
        for id in members.keys.sorted() {
            guard let m = members[id] else { continue }
            w.keyID(id)
            w.u8(m.role.rawValue)
            w.u8(m.active ? 1 : 0)
            w.u64(m.available)
            w.u64(m.tnt)
        }
        w.u32(UInt32(truncatingIfNeeded: pending.count))
        for ref in pending.keys.sorted() {
            w.keyID(ref.consumer)
            w.u64(ref.sequence)
            w.u64(pending[ref] ?? 0)
        }
        return w.bytes
    }

    /// SHA-256 of `canonicalBytes()`: the state digest a block header commits to.
    public func digest() -> Hash256 { Hash256.sha256(canonicalBytes()) }
}

/// One meter's row in the TNT table.
public struct MeterStatus: Hashable, Sendable {
    /// The enrolled role.
    public var role: MeterRole
    /// False once revoked (until enrolled again).
    public var active: Bool
    /// Energy the producer can still deliver, Wh (0 for consumers).
    public var availableWh: UInt64
    /// Requests the producer has served (0 for consumers).
    public var tnt: UInt64
}

/// Why the TNT machine refused a record.
public enum TNTError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The meter was never enrolled.
    case notEnrolled(MeterID)
    /// The meter's enrollment was revoked.
    case revoked(MeterID)
    /// An enrollment for a meter that is already active.
    case alreadyEnrolled(MeterID)
    /// An enrollment or revocation names a different role than the meter's.
    case roleMismatch(MeterID, enrolled: MeterRole, claimed: MeterRole)
    /// A consumer offered energy, or a producer requested it.
    case wrongRole(MeterID, has: MeterRole, needs: MeterRole)
    /// The same request (consumer, sequence) appeared twice.
    case duplicateRequest(RequestReference)
    /// A dispatch answers a request that is not pending.
    case unknownRequest(RequestReference)
    /// The recorded dispatch is not what the rule gives.
    case dispatchMismatch(RequestReference, expected: DispatchOutcome, recorded: DispatchOutcome)
    /// A dispatch names a producer that cannot serve it (amount differs or not enough energy).
    case infeasibleDispatch(RequestReference, producer: MeterID)
    /// A producer's available energy would exceed 2^64-1 Wh.
    case energyOverflow(MeterID)

    public var description: String {
        switch self {
        case let .notEnrolled(m): return "meter \(m.hex) is not enrolled"
        case let .revoked(m): return "meter \(m.hex) has been revoked"
        case let .alreadyEnrolled(m): return "meter \(m.hex) is already enrolled"
        case let .roleMismatch(m, enrolled, claimed): return "meter \(m.hex) is enrolled as \(enrolled), not \(claimed)"
        case let .wrongRole(m, has, needs): return "meter \(m.hex) is a \(has); only a \(needs) may do this"
        case let .duplicateRequest(r): return "\(r) appears twice"
        case let .unknownRequest(r): return "dispatch answers \(r), which is not pending"
        case let .dispatchMismatch(r, expected, recorded):
            return "dispatch for \(r) records \(recorded), but the TNT rule gives \(expected)"
        case let .infeasibleDispatch(r, producer): return "dispatch for \(r) names producer \(producer.hex), which cannot serve it"
        case let .energyOverflow(m): return "producer \(m.hex)'s available energy would overflow"
        }
    }
}

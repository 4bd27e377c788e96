/// The TNT dispatch rule as a pure, deterministic state machine.
///
/// It holds each enrolled meter's role, every producer's available energy (Wh), TNT
/// (total number of requests it has served), energy served, metered export and energy
/// credited from offers, the requests not yet answered, and the dispatch policy and offer
/// tolerance the chain's latest `PolicyRecord` set. It changes only by `apply(_:)`, so
/// anyone replaying the same records reaches the same state, the same decisions and the
/// same `digest()`.
///
/// The rule (`decide`): among active producers whose available energy covers the request,
/// the one with the lowest TNT; ties go to the lowest producer id. If none, under
/// `.lowestTNT` the request is unserved; under `.splitTNT` it is split over producers in
/// (TNT, id) order (see `DispatchPolicy.splitTNT`), or unserved if they cannot cover it.
/// A plain decision costs O(log n) and a split one O(k log n) for k producers (see
/// `ProducerIndex`); `naiveDecide` is the O(n log n) reference.
///
/// Value verification: an offer is credited only up to what the producer's meter has
/// exported (its `.energyExportWh` counter now, minus the counter in its first reading
/// that carried one; the highest counter seen counts, so a counter going backwards never
/// reduces it) plus the tolerance, minus what earlier offers were credited. See
/// `credit(for:)`.
public struct TNTState: Sendable {
    struct Member: Sendable, Equatable {
        var role: MeterRole
        var active: Bool
        var available: UInt64
        var tnt: UInt64
        var handle: Int32
        var served: UInt64 = 0
        var credited: UInt64 = 0
        /// The export counter of the meter's first reading that carried one.
        var firstExport: Int64?
        /// The highest export counter seen since (≥ `firstExport`).
        var highestExport: Int64 = 0

        /// Metered export since the first reading, Wh.
        var exported: UInt64 {
            // highestExport ≥ firstExport, so the true difference fits in a UInt64.
            firstExport.map { UInt64(bitPattern: highestExport &- $0) } ?? 0
        }

        var status: MeterStatus {
            MeterStatus(
                role: role,
                active: active,
                availableWh: available,
                tnt: tnt,
                servedWh: served,
                exportedWh: exported,
                creditedWh: credited
            )
        }
    }

    private var members: [KeyID: Member] = [:]
    /// `members`' ids in ascending order, in two sorted lists (see `addOrderedID`), kept as
    /// meters enroll (never removed: revoked meters stay), so version 2's encoding (what a
    /// version-1 header commits to) needs no sort of every meter.
    private var orderedIDs: [KeyID] = []
    private var recentIDs: [KeyID] = []
    private var index = ProducerIndex()
    private var pending: [RequestReference: UInt64] = [:]
    /// Derived from `members`, `pending`, `policy` and the tolerance: the version-3 digest,
    /// kept up to date incrementally (every write to `members` or `pending` goes through
    /// `setMember` or `setPending`, which mark what changed).
    private var commitment = StateCommitment()
    /// The dispatch policy every Dispatch must name and follow (`.lowestTNT` until a
    /// `PolicyRecord` says otherwise).
    public private(set) var policy: DispatchPolicy = .lowestTNT
    /// How many Wh an offer may exceed the producer's metered export by (0 until a
    /// `PolicyRecord` says otherwise).
    public private(set) var offerToleranceWh: UInt64 = 0

    /// An empty state: no meters, no requests, policy `.lowestTNT`, tolerance 0 Wh.
    public init() {}

    /// A state holding `members` (in ascending id order; their handles are ignored) and
    /// `pending`, with the derived indexes (ordered ids, producer index, the commitment)
    /// rebuilt: what `TNTState+Snapshot` restores.
    init(
        restoring members: [(id: KeyID, member: Member)],
        pending: [RequestReference: UInt64],
        policy: DispatchPolicy,
        offerToleranceWh: UInt64
    ) {
        for (id, var m) in members {
            m.handle = -1
            if m.role == .producer {
                m.handle = index.makeNode(id: id, tnt: m.tnt, available: m.available)
                if m.active { index.link(m.handle) }
            }
            self.members[id] = m
        }
        orderedIDs = members.map(\.id)
        self.pending = pending
        self.policy = policy
        self.offerToleranceWh = offerToleranceWh
        rebuildCommitment()
    }

    /// Calls `body` with every member in ascending id order (for `TNTState+Snapshot`).
    func forEachMember(_ body: (KeyID, Member) -> Void) {
        forEachIDInOrder { id in if let m = members[id] { body(id, m) } }
    }

    /// Every pending request's energy (for `TNTState+Snapshot`).
    var pendingEnergies: [RequestReference: UInt64] { pending }

    /// A meter's entry in the table.
    public func status(of meter: MeterID) -> MeterStatus? {
        members[meter]?.status
    }

    /// Every producer ever enrolled (active or revoked) with its status, in `order`:
    /// `.tnt` is (TNT, id) ascending, the order the rule considers them in; `.id` is by id.
    public func producerTable(orderedBy order: ProducerOrder = .tnt) -> [ProducerRow] {
        let rows = members.compactMap { id, m in m.role == .producer ? ProducerRow(meter: id, status: m.status) : nil }
        switch order {
        case .tnt: return rows.sorted { ($0.status.tnt, $0.meter) < ($1.status.tnt, $1.meter) }
        case .id: return rows.sorted { $0.meter < $1.meter }
        }
    }

    /// The most energy any active producer has available, Wh (0 when none), in O(1).
    public var largestAvailableWh: UInt64 { index.largestAvailable }

    /// Number of meters ever enrolled (active or revoked).
    public var meterCount: Int { members.count }

    /// Energy (Wh) of an unanswered request, nil if it is not pending.
    public func pendingEnergy(of request: RequestReference) -> UInt64? { pending[request] }

    /// Requests not yet answered by a Dispatch.
    public var pendingRequests: [RequestReference] { pending.keys.sorted() }

    // MARK: value verification

    /// What applying `offer` now would credit: the offered energy cut to the producer's
    /// metered export plus the tolerance, minus what it was credited before (never below
    /// 0). Pure; the gateway asks before appending, to answer the producer and record an
    /// `.offerExceedsProduction` anomaly for a cut. An offer crediting 0 Wh is still a
    /// valid record.
    /// - Throws: `TNTError` when the offer's producer is not an active producer (the same
    ///   error `apply` would throw).
    public func credit(for offer: Offer) throws(TNTError) -> OfferCredit {
        credit(offer.energyWh, to: try activeMember(offer.producer, needs: .producer))
    }

    private func credit(_ offered: UInt64, to m: Member) -> OfferCredit {
        let (sum, overflow) = m.exported.addingReportingOverflow(offerToleranceWh)
        let ceiling = overflow ? UInt64.max : sum
        let room = ceiling > m.credited ? ceiling - m.credited : 0
        return OfferCredit(
            offeredWh: offered,
            creditedWh: min(offered, room),
            exportedWh: m.exported,
            toleranceWh: offerToleranceWh,
            previouslyCreditedWh: m.credited
        )
    }

    // MARK: the rule

    /// The rule's choice under the current policy for a request of `energyWh`.
    public func decide(energyWh: UInt64) -> DispatchOutcome {
        decide(energyWh: energyWh, policy: policy)
    }

    /// The rule's choice under `policy`: O(log n) when one producer can cover the request,
    /// O(k log n) when it is split over k producers.
    public func decide(energyWh: UInt64, policy: DispatchPolicy) -> DispatchOutcome {
        if let handle = index.leftmost(atLeast: energyWh) {
            let node = index.node(handle)
            return .served(producer: node.id, energyWh: energyWh, producerTNTBefore: node.tnt)
        }
        guard policy == .splitTNT, let handles = index.cover(energyWh, limit: Dispatch.maxShares) else {
            return .unserved
        }
        var remaining = energyWh
        var shares: [DispatchShare] = []
        shares.reserveCapacity(handles.count)
        for handle in handles {
            let node = index.node(handle)
            let part = min(node.available, remaining)
            remaining -= part
            shares.append(DispatchShare(producer: node.id, energyWh: part, tntBefore: node.tnt))
        }
        return .split(shares)
    }

    /// The rule under the current policy by scanning every producer, for tests and benchmarks.
    public func naiveDecide(energyWh: UInt64) -> DispatchOutcome {
        naiveDecide(energyWh: energyWh, policy: policy)
    }

    /// The rule under `policy` by scanning and sorting every producer: O(n log n).
    public func naiveDecide(energyWh: UInt64, policy: DispatchPolicy) -> DispatchOutcome {
        var best: (id: KeyID, tnt: UInt64)?
        for (id, m) in members where m.role == .producer && m.active && m.available >= energyWh {
            if let b = best, (b.tnt, b.id) <= (m.tnt, id) { continue }
            best = (id, m.tnt)
        }
        if let best {
            return .served(producer: best.id, energyWh: energyWh, producerTNTBefore: best.tnt)
        }
        guard policy == .splitTNT else { return .unserved }
        let candidates = members.filter { $0.value.role == .producer && $0.value.active && $0.value.available > 0 }
            .sorted { ($0.value.tnt, $0.key) < ($1.value.tnt, $1.key) }
        var remaining = energyWh
        var shares: [DispatchShare] = []
        for (id, m) in candidates.prefix(Dispatch.maxShares) where remaining > 0 {
            let part = min(m.available, remaining)
            remaining -= part
            shares.append(DispatchShare(producer: id, energyWh: part, tntBefore: m.tnt))
        }
        return remaining == 0 ? .split(shares) : .unserved
    }

    /// The Dispatch record the rule gives, under the current policy, for a pending request.
    /// - Throws: `TNTError.unknownRequest` if the request is not pending.
    public func dispatch(for request: RequestReference) throws(TNTError) -> Dispatch {
        guard let energy = pending[request] else { throw .unknownRequest(request) }
        do {
            return try Dispatch(request: request, policy: policy, outcome: decide(energyWh: energy))
        } catch {
            throw .unknownRequest(request)  // unreachable: decide yields only valid outcomes
        }
    }

    // MARK: transitions

    /// Applies one record. Readings change the state only for producers' export counters;
    /// anomalies never do. On error the state is unchanged.
    public mutating func apply(_ record: Record) throws(TNTError) {
        try apply(record, enforcingRule: true)
    }

    /// `enforcingRule: false` accepts any feasible dispatch under any policy (used to build
    /// deliberately unfair chains in tests; a verifier always enforces).
    mutating func apply(_ record: Record, enforcingRule: Bool) throws(TNTError) {
        switch record {
        case .anomaly, .authority, .ocmfCommitment:
            return
        case let .escalation(e):
            guard e.role == .producer else { return }  // the consumer side changes no TNT row
            try applyEscalation(e)
        case let .reading(r):
            recordExport(r)
        case let .policy(p):
            policy = p.policy
            offerToleranceWh = p.offerToleranceWh
        case let .enrollment(e):
            try enroll(e.meter, role: e.role)
        case let .revocation(r):
            try revoke(r.meter, role: r.role)
        case let .offer(o):
            var m = try activeMember(o.producer, needs: .producer)
            let credited = credit(o.energyWh, to: m).creditedWh
            let (sum, overflow) = m.available.addingReportingOverflow(credited)
            guard !overflow else { throw .energyOverflow(o.producer) }
            m.available = sum
            m.credited += credited  // ≤ exported + tolerance (saturated), so no overflow
            setMember(o.producer, m)
            index.update(m.handle, tnt: m.tnt, available: m.available)
        case let .request(q):
            _ = try activeMember(q.consumer, needs: .consumer)
            guard pending[q.reference] == nil else { throw .duplicateRequest(q.reference) }
            setPending(q.reference, q.energyWh)
        case let .dispatch(d):
            try applyDispatch(d, enforcingRule: enforcingRule)
        }
    }

    private mutating func setMember(_ id: KeyID, _ member: Member) {
        members[id] = member
        commitment.meterChanged(id)
    }

    private mutating func setPending(_ reference: RequestReference, _ energyWh: UInt64?) {
        pending[reference] = energyWh
        commitment.requestChanged(reference)
    }

    /// Tracks a producer's export counter; readings of other meters, and readings without
    /// an export counter, change nothing.
    private mutating func recordExport(_ r: Reading) {
        guard var m = members[r.meter], m.role == .producer, let counter = r[.energyExportWh] else { return }
        if m.firstExport == nil {
            m.firstExport = counter
            m.highestExport = counter
        } else {
            m.highestExport = max(m.highestExport, counter)
        }
        setMember(r.meter, m)
    }

    private mutating func enroll(_ meter: MeterID, role: MeterRole) throws(TNTError) {
        if var m = members[meter] {
            guard !m.active else { throw .alreadyEnrolled(meter) }
            guard m.role == role else { throw .roleMismatch(meter, enrolled: m.role, claimed: role) }
            m.active = true
            setMember(meter, m)
            if role == .producer { index.link(m.handle) }
            return
        }
        var handle: Int32 = -1
        if role == .producer {
            handle = index.makeNode(id: meter, tnt: 0, available: 0)
            index.link(handle)
        }
        setMember(meter, Member(role: role, active: true, available: 0, tnt: 0, handle: handle))
        addOrderedID(meter)
    }

    private mutating func revoke(_ meter: MeterID, role: MeterRole) throws(TNTError) {
        guard var m = members[meter] else { throw .notEnrolled(meter) }
        guard m.active else { throw .revoked(meter) }
        guard m.role == role else { throw .roleMismatch(meter, enrolled: m.role, claimed: role) }
        m.active = false
        setMember(meter, m)
        if role == .producer { index.unlink(m.handle) }
    }

    /// The rule for a meter's own trade record: it must be enrolled, not revoked, and in
    /// the role the record needs (offers: producer; requests: consumer).
    public func requireActiveMember(_ meter: MeterID, needs role: MeterRole) throws(TNTError) {
        _ = try activeMember(meter, needs: role)
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
            guard d.policy == policy else { throw .policyMismatch(d.request, chain: policy, recorded: d.policy) }
            let expected = decide(energyWh: energy)
            guard d.outcome == expected else {
                throw .dispatchMismatch(d.request, expected: expected, recorded: d.outcome)
            }
        }
        let shares = d.outcome.shares
        if !shares.isEmpty {
            let delivered = d.outcome.energyWh
            guard delivered == energy else {
                throw .deliveredMismatch(d.request, requested: energy, delivered: delivered)
            }
            // Check every share before changing anything.
            var changed: [MeterID: Member] = [:]
            for share in shares {
                var m: Member
                if let seen = changed[share.producer] {
                    m = seen
                } else {
                    m = try activeMember(share.producer, needs: .producer)
                }
                guard share.energyWh >= 1, m.available >= share.energyWh else {
                    throw .infeasibleDispatch(d.request, producer: share.producer)
                }
                m.available -= share.energyWh
                m.tnt += 1
                m.served += share.energyWh  // ≤ credited, so no overflow
                changed[share.producer] = m
            }
            for (id, m) in changed {
                setMember(id, m)
                index.update(m.handle, tnt: m.tnt, available: m.available)
            }
        }
        setPending(d.request, nil)
    }

    // MARK: escalation

    /// The producer's TNT now if it can serve an escalated decision of `energyWh`: it is an
    /// active producer with at least that much available. Pure; the gateway asks before
    /// committing a super node's decision.
    /// - Throws: `TNTError` (not an active producer, or `.infeasibleEscalation`).
    public func escalationTNT(producer: MeterID, energyWh: UInt64, decisionID: UInt64) throws(TNTError) -> UInt64 {
        let m = try activeMember(producer, needs: .producer)
        guard energyWh >= 1, m.available >= energyWh else {
            throw .infeasibleEscalation(
                decisionID: decisionID,
                producer: producer,
                availableWh: m.available,
                neededWh: energyWh
            )
        }
        return m.tnt
    }

    /// Producer side of an escalation: the producer serves the decision's energy, like a
    /// served dispatch (available −, served +, TNT + 1); the record's TNT before must be
    /// the producer's.
    private mutating func applyEscalation(_ e: Escalation) throws(TNTError) {
        let d = e.decision.decision
        let tnt = try escalationTNT(producer: d.producer, energyWh: d.energyWh, decisionID: d.decisionID)
        guard tnt == e.producerTNTBefore else {
            throw .escalationTNTMismatch(
                decisionID: d.decisionID,
                producer: d.producer,
                recorded: e.producerTNTBefore,
                actual: tnt
            )
        }
        guard var m = members[d.producer] else { return }
        m.available -= d.energyWh
        m.tnt += 1
        m.served += d.energyWh  // ≤ credited, so no overflow
        setMember(d.producer, m)
        index.update(m.handle, tnt: m.tnt, available: m.available)
    }

    // MARK: digest

    /// Where `id` goes in the ascending `ids` (binary search).
    private static func insertionPoint(of id: KeyID, in ids: [KeyID]) -> Int {
        var low = 0
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Adds a newly enrolled meter's id to the ordered ids: into the small recent list,
    /// which is merged into the long one every 1,024 meters (amortised O(n / 1024) moves a
    /// meter, where inserting into one sorted array would move n/2 ids each time).
    private mutating func addOrderedID(_ id: KeyID) {
        recentIDs.insert(id, at: Self.insertionPoint(of: id, in: recentIDs))
        guard recentIDs.count >= 1024 else { return }
        var merged: [KeyID] = []
        merged.reserveCapacity(orderedIDs.count + recentIDs.count)
        var i = 0
        var j = 0
        while i < orderedIDs.count || j < recentIDs.count {
            if j == recentIDs.count || (i < orderedIDs.count && orderedIDs[i] < recentIDs[j]) {
                merged.append(orderedIDs[i])
                i += 1
            } else {
                merged.append(recentIDs[j])
                j += 1
            }
        }
        orderedIDs = merged
        recentIDs.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with every meter id in ascending order (the two ordered lists merged).
    private func forEachIDInOrder(_ body: (KeyID) -> Void) {
        var i = 0
        var j = 0
        while i < orderedIDs.count || j < recentIDs.count {
            if j == recentIDs.count || (i < orderedIDs.count && orderedIDs[i] < recentIDs[j]) {
                body(orderedIDs[i])
                i += 1
            } else {
                body(recentIDs[j])
                j += 1
            }
        }
    }

    /// The canonical encoding of the whole state (docs/FORMATS.md, "TNT state", version 2):
    /// policy and tolerance, meters sorted by id, then pending requests sorted by
    /// (consumer, sequence).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 19 + members.count * Member.recordLength + pending.count * 32)
        w.u8(0x20)
        w.u8(2)
        w.u8(policy.rawValue)
        w.u64(offerToleranceWh)
        w.u32(UInt32(truncatingIfNeeded: members.count))
        forEachIDInOrder { id in members[id]?.encode(id: id, into: &w) }
        w.u32(UInt32(truncatingIfNeeded: pending.count))
        for ref in pending.keys.sorted() {
            w.raw(StateCommitment.requestRecord(ref, pending[ref] ?? 0))
        }
        return w.bytes
    }

    /// SHA-256 of `canonicalBytes()` (version 2): what a version-1 block header commits to.
    /// O(meters + requests); `commitmentDigest()` gives version 3.
    public func digest() -> Hash256 { Hash256.sha256(canonicalBytes()) }

    /// The version-3 digest (docs/FORMATS.md, "TNT state"): what a version-2 block header
    /// commits to. Rehashes only the meters and requests changed since the last call, in
    /// O(changed × log meters); mutating because it keeps the Merkle tries it updates.
    public mutating func commitmentDigest() -> Hash256 {
        let members = self.members
        let pending = self.pending
        return commitment.digest(
            policy: policy,
            offerToleranceWh: offerToleranceWh,
            meterRecord: { id in members[id].map { $0.record(id: id) } },
            pendingEnergy: { pending[$0] }
        )
    }

    /// The state digest a block header of `headerVersion` commits to: version 2 of the
    /// encoding for header version 1, version 3 for header version 2 (the one rule the
    /// builder, the verifier and the auditor ask).
    ///
    /// For version 1 the commitment is brought up to date too, so what it has to rehash stays
    /// bounded by the live state (not by the requests of a long chain of version-1 blocks)
    /// and it is ready when the chain moves on to version 2.
    public mutating func digest(forHeaderVersion headerVersion: UInt8) -> Hash256 {
        let commitment = commitmentDigest()
        return headerVersion >= 2 ? commitment : digest()
    }

    /// Replaces the commitment by one rebuilt from `members` and `pending`, for a state set
    /// from stored members and requests rather than by `apply` (O(n log n), at start-up).
    mutating func rebuildCommitment() {
        commitment = StateCommitment()
        for id in members.keys { commitment.meterChanged(id) }
        for reference in pending.keys { commitment.requestChanged(reference) }
    }
}

extension TNTState.Member {
    /// Length of a meter's record.
    static let recordLength = 67

    /// The meter's record (docs/FORMATS.md, "TNT state"): a row of version 2's encoding
    /// and a leaf of version 3's meter trie.
    func record(id: KeyID) -> [UInt8] {
        var w = ByteWriter(capacity: Self.recordLength)
        encode(id: id, into: &w)
        return w.bytes
    }

    func encode(id: KeyID, into w: inout ByteWriter) {
        w.keyID(id)
        w.u8(role.rawValue)
        w.u8(active ? 1 : 0)
        w.u64(available)
        w.u64(tnt)
        w.u64(served)
        w.u64(credited)
        w.u8(firstExport == nil ? 0 : 1)
        w.i64(firstExport ?? 0)
        w.i64(firstExport == nil ? 0 : highestExport)
    }
}

/// One meter's row in the TNT table.
public struct MeterStatus: Hashable, Sendable {
    /// The enrolled role.
    public var role: MeterRole
    /// False once revoked (until enrolled again).
    public var active: Bool
    /// Energy the producer can still deliver, Wh (0 for consumers).
    public var availableWh: UInt64
    /// Requests the producer has served, a share of a split dispatch counting as one
    /// (0 for consumers).
    public var tnt: UInt64
    /// Energy the producer has delivered by dispatches, Wh (0 for consumers).
    public var servedWh: UInt64
    /// Energy the producer's meter has exported since its first reading on the chain that
    /// carried an export counter, Wh (0 for consumers).
    public var exportedWh: UInt64
    /// Energy credited to the producer by its offers, Wh: what the offers asked, cut by
    /// value verification (0 for consumers).
    public var creditedWh: UInt64

    /// Creates a status row.
    public init(
        role: MeterRole,
        active: Bool,
        availableWh: UInt64,
        tnt: UInt64,
        servedWh: UInt64 = 0,
        exportedWh: UInt64 = 0,
        creditedWh: UInt64 = 0
    ) {
        self.role = role
        self.active = active
        self.availableWh = availableWh
        self.tnt = tnt
        self.servedWh = servedWh
        self.exportedWh = exportedWh
        self.creditedWh = creditedWh
    }
}

/// A producer and its status, as `TNTState.producerTable` lists them.
public struct ProducerRow: Hashable, Sendable {
    /// The producer's meter id.
    public var meter: MeterID
    /// Its row in the TNT table.
    public var status: MeterStatus

    /// Creates a row.
    public init(meter: MeterID, status: MeterStatus) {
        self.meter = meter
        self.status = status
    }
}

/// How `TNTState.producerTable` sorts producers.
public enum ProducerOrder: Sendable, Hashable {
    /// (TNT, id) ascending: the order the rule considers producers in.
    case tnt
    /// Id ascending.
    case id
}

/// What an offer is credited with (`TNTState.credit(for:)`).
public struct OfferCredit: Hashable, Sendable, CustomStringConvertible {
    /// Energy the offer asked to make available, Wh.
    public var offeredWh: UInt64
    /// Energy it makes available, Wh: `min(offered, exported + tolerance − credited before)`.
    public var creditedWh: UInt64
    /// The producer's metered export when the offer is applied, Wh.
    public var exportedWh: UInt64
    /// The chain's offer tolerance, Wh.
    public var toleranceWh: UInt64
    /// What the producer's earlier offers were credited, Wh.
    public var previouslyCreditedWh: UInt64

    /// Creates a credit.
    public init(
        offeredWh: UInt64,
        creditedWh: UInt64,
        exportedWh: UInt64,
        toleranceWh: UInt64,
        previouslyCreditedWh: UInt64
    ) {
        self.offeredWh = offeredWh
        self.creditedWh = creditedWh
        self.exportedWh = exportedWh
        self.toleranceWh = toleranceWh
        self.previouslyCreditedWh = previouslyCreditedWh
    }

    /// The part of the offer not credited, Wh.
    public var cutWh: UInt64 { offeredWh - creditedWh }

    /// True when part of the offer is not credited.
    public var isCut: Bool { creditedWh < offeredWh }

    public var description: String {
        "offered \(offeredWh) Wh, credited \(creditedWh) Wh (metered export \(exportedWh) Wh + tolerance \(toleranceWh) Wh, \(previouslyCreditedWh) Wh credited before)"
    }
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
    /// A dispatch names another policy than the chain's current one (`PolicyRecord`).
    case policyMismatch(RequestReference, chain: DispatchPolicy, recorded: DispatchPolicy)
    /// A dispatch delivers another amount than the request asked for.
    case deliveredMismatch(RequestReference, requested: UInt64, delivered: UInt64)
    /// The producer of an escalation decision has less available energy than it delivers.
    case infeasibleEscalation(decisionID: UInt64, producer: MeterID, availableWh: UInt64, neededWh: UInt64)
    /// The producer side of an escalation records another TNT before than the producer's.
    case escalationTNTMismatch(decisionID: UInt64, producer: MeterID, recorded: UInt64, actual: UInt64)

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
        case let .infeasibleDispatch(r, producer):
            return "dispatch for \(r) names producer \(producer.hex), which cannot serve it"
        case let .energyOverflow(m): return "producer \(m.hex)'s available energy would overflow"
        case let .policyMismatch(r, chain, recorded):
            return "dispatch for \(r) names policy \(recorded), but the chain's policy is \(chain)"
        case let .deliveredMismatch(r, requested, delivered):
            return "dispatch for \(r) delivers \(delivered) Wh, but the request asked for \(requested) Wh"
        case let .infeasibleEscalation(id, producer, available, needed):
            return
                "escalation decision \(id) names producer \(producer.hex), which has \(available) Wh available, not the \(needed) Wh it delivers"
        case let .escalationTNTMismatch(id, producer, recorded, actual):
            return
                "escalation decision \(id) records producer \(producer.hex)'s TNT before as \(recorded), but it is \(actual)"
        }
    }
}

/// The TNT state in a resume snapshot (docs/FORMATS.md, "Resume snapshot"): every member's
/// row and every pending request, from which the derived indexes are rebuilt. Separate from
/// the state commitment (`canonicalBytes`), which may change on its own; the restored
/// state's digest is checked against the tip's signed header.
extension TNTState {
    /// Bytes per member row, and per pending request, in `snapshotBytes`.
    static let snapshotMemberBytes = 16 + 2 + 4 * 8 + 1 + 2 * 8
    static let snapshotRequestBytes = 16 + 8 + 8

    /// Appends the state to `w`.
    package func writeSnapshot(to w: inout ByteWriter) {
        w.u8(policy.rawValue)
        w.u64(offerToleranceWh)
        w.u32(UInt32(truncatingIfNeeded: meterCount))
        forEachMember { id, m in
            w.keyID(id)
            w.u8(m.role.rawValue)
            w.u8(m.active ? 1 : 0)
            w.u64(m.available)
            w.u64(m.tnt)
            w.u64(m.served)
            w.u64(m.credited)
            w.u8(m.firstExport == nil ? 0 : 1)
            w.i64(m.firstExport ?? 0)
            w.i64(m.firstExport == nil ? 0 : m.highestExport)
        }
        let pending = pendingEnergies
        w.u32(UInt32(truncatingIfNeeded: pending.count))
        for ref in pending.keys.sorted() {
            w.keyID(ref.consumer)
            w.u64(ref.sequence)
            w.u64(pending[ref] ?? 0)
        }
    }

    /// Reads a state written by `writeSnapshot`. Strict: ids and requests ascending, flags
    /// 0 or 1, known roles and policy, an export counter never below its first value.
    package init(snapshot r: inout ByteReader) throws(RecordDecodingError) {
        guard let policy = DispatchPolicy(rawValue: try r.u8("TNT policy")) else {
            throw .invalidField(field: "TNT policy", reason: "unknown dispatch policy")
        }
        let tolerance = try r.u64("TNT offer tolerance")
        let count = try r.count("TNT members", itemBytes: Self.snapshotMemberBytes)
        var members: [(id: KeyID, member: Member)] = []
        members.reserveCapacity(count)
        for _ in 0..<count {
            let id = try r.keyID("TNT member id")
            if let previous = members.last?.id, !(previous < id) {
                throw .invalidField(field: "TNT member id", reason: "members are not in ascending id order")
            }
            guard let role = MeterRole(rawValue: try r.u8("TNT member role")) else {
                throw .invalidField(field: "TNT member role", reason: "unknown role")
            }
            let active = try r.flag("TNT member active")
            var m = Member(role: role, active: active, available: try r.u64("TNT available"), tnt: 0, handle: -1)
            m.tnt = try r.u64("TNT count")
            m.served = try r.u64("TNT served")
            m.credited = try r.u64("TNT credited")
            let hasExport = try r.flag("TNT export flag")
            let first = try r.i64("TNT first export")
            let highest = try r.i64("TNT highest export")
            if hasExport {
                guard highest >= first else {
                    throw .invalidField(field: "TNT highest export", reason: "below the first export counter")
                }
                m.firstExport = first
                m.highestExport = highest
            } else if first != 0 || highest != 0 {
                throw .invalidField(field: "TNT first export", reason: "set without its flag")
            }
            members.append((id, m))
        }
        let requests = try r.count("TNT pending requests", itemBytes: Self.snapshotRequestBytes)
        var pending: [RequestReference: UInt64] = [:]
        pending.reserveCapacity(requests)
        var previous: RequestReference?
        for _ in 0..<requests {
            let ref = RequestReference(
                consumer: try r.keyID("TNT request consumer"),
                sequence: try r.u64("TNT request sequence")
            )
            if let previous, !(previous < ref) {
                throw .invalidField(field: "TNT request", reason: "pending requests are not in ascending order")
            }
            previous = ref
            pending[ref] = try r.u64("TNT request energy")
        }
        self.init(restoring: members, pending: pending, policy: policy, offerToleranceWh: tolerance)
    }
}

/// The gateway states which dispatch policy applies from this entry on, and how much
/// energy (Wh) an offer may exceed the producer's metered export by. Signed by the gateway.
/// Until the first policy record, a chain runs the plain rule (`.lowestTNT`) with a
/// tolerance of 0 Wh. Layout: docs/FORMATS.md, "Policy".
public struct PolicyRecord: CanonicalRecord {
    public static let recordType = RecordType.policy
    static let version: UInt8 = 1

    /// The dispatch policy every following Dispatch record must name and follow.
    public var policy: DispatchPolicy
    /// Value verification slack: an offer is credited up to the producer's metered export
    /// plus this many Wh (minus what was credited before).
    public var offerToleranceWh: UInt64
    /// When the policy takes effect, ms since the Unix epoch, UTC.
    public var timestamp: Int64

    /// Creates a policy record.
    public init(policy: DispatchPolicy, offerToleranceWh: UInt64, timestamp: Int64) {
        self.policy = policy
        self.offerToleranceWh = offerToleranceWh
        self.timestamp = timestamp
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 19)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.u8(policy.rawValue)
        w.u64(offerToleranceWh)
        w.i64(timestamp)
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1...1)
        let policyByte = try r.u8("policy")
        guard let policy = DispatchPolicy(rawValue: policyByte) else {
            throw .invalidField(field: "policy", reason: "unknown policy \(policyByte)")
        }
        self.policy = policy
        offerToleranceWh = try r.u64("offer_tolerance_wh")
        timestamp = try r.i64("timestamp")
        try r.finish()
    }
}

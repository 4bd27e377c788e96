/// What an enrolled meter may do.
public enum MeterRole: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Signs readings and requests.
    case consumer = 1
    /// Signs readings and offers; serves requests.
    case producer = 2

    public var description: String { self == .consumer ? "consumer" : "producer" }
}

/// The gateway admits a meter key with a role; signed by the gateway.
/// Layout: docs/FORMATS.md, "Enrollment and Revocation".
public struct Enrollment: CanonicalRecord {
    public static let recordType = RecordType.enrollment
    /// The meter's public key.
    public var meterKey: PublicIdentity
    /// The meter's role.
    public var role: MeterRole
    /// When the enrollment takes effect, ms since the Unix epoch, UTC.
    public var timestamp: Int64

    /// The enrolled meter's id.
    public var meter: MeterID { meterKey.id }

    /// Creates an enrollment.
    public init(meterKey: PublicIdentity, role: MeterRole, timestamp: Int64) {
        self.meterKey = meterKey
        self.role = role
        self.timestamp = timestamp
    }

    public func canonicalBytes() -> [UInt8] { MembershipCoding.encode(Self.recordType, meterKey, role, timestamp) }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        (meterKey, role, timestamp) = try MembershipCoding.decode(Self.recordType, bytes)
    }
}

/// The gateway removes a meter key; signed by the gateway. Same layout as Enrollment.
public struct Revocation: CanonicalRecord {
    public static let recordType = RecordType.revocation
    /// The meter's public key.
    public var meterKey: PublicIdentity
    /// The role being revoked (must be the meter's enrolled role).
    public var role: MeterRole
    /// When the revocation takes effect, ms since the Unix epoch, UTC.
    public var timestamp: Int64

    /// The revoked meter's id.
    public var meter: MeterID { meterKey.id }

    /// Creates a revocation.
    public init(meterKey: PublicIdentity, role: MeterRole, timestamp: Int64) {
        self.meterKey = meterKey
        self.role = role
        self.timestamp = timestamp
    }

    public func canonicalBytes() -> [UInt8] { MembershipCoding.encode(Self.recordType, meterKey, role, timestamp) }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        (meterKey, role, timestamp) = try MembershipCoding.decode(Self.recordType, bytes)
    }
}

enum MembershipCoding {
    static func encode(_ type: RecordType, _ key: PublicIdentity, _ role: MeterRole, _ timestamp: Int64) -> [UInt8] {
        var w = ByteWriter(capacity: 43)
        w.u8(type.rawValue)
        w.u8(1)
        w.raw(key.rawBytes)
        w.u8(role.rawValue)
        w.i64(timestamp)
        return w.bytes
    }

    static func decode(
        _ type: RecordType,
        _ bytes: ArraySlice<UInt8>
    ) throws(RecordDecodingError) -> (PublicIdentity, MeterRole, Int64) {
        var r = ByteReader(bytes)
        _ = try r.header(type: type.rawValue, versions: 1...1)
        let keyBytes = try r.raw(32, "meter_public_key")
        let roleByte = try r.u8("role")
        let timestamp = try r.i64("timestamp")
        try r.finish()
        guard let role = MeterRole(rawValue: roleByte) else {
            throw .invalidField(field: "role", reason: "unknown role \(roleByte)")
        }
        do {
            return (try PublicIdentity(rawBytes: keyBytes), role, timestamp)
        } catch {
            throw .invalidField(field: "meter_public_key", reason: error.description)
        }
    }
}

/// The 16-byte identifier of an Ed25519 public key: the first 16 bytes of
/// SHA-256(raw 32-byte public key), shown as 32 lowercase hex digits.
///
/// Ordering is lexicographic over the 16 bytes, which is the order the TNT rule uses to
/// break ties ("lowest producer id").
public struct KeyID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0–7, big-endian.
    public let high: UInt64
    /// Bytes 8–15, big-endian.
    public let low: UInt64

    /// The all-zero id, used in a Dispatch record that names no producer.
    public static let zero = KeyID(high: 0, low: 0)

    /// Creates an id from its two big-endian halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an id from exactly 16 bytes; nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var h: UInt64 = 0
        var l: UInt64 = 0
        for (i, b) in bytes.enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.init(high: h, low: l)
    }

    /// Parses 32 hex digits; nil otherwise.
    public init?(hex: String) {
        guard let bytes = decodeHex(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The id of a raw 32-byte Ed25519 public key.
    public init(publicKeyBytes: [UInt8]) {
        let digest = Hash256.sha256(publicKeyBytes)
        self.init(high: digest.w0, low: digest.w1)
    }

    /// The 16 bytes in order.
    public var bytes: [UInt8] {
        var w = ByteWriter(capacity: 16)
        w.keyID(self)
        return w.bytes
    }

    /// 32 lowercase hex digits.
    public var hex: String { encodeHex(bytes) }

    public var description: String { hex }

    public static func < (a: KeyID, b: KeyID) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

/// The id of a meter's key (consumer or producer).
public typealias MeterID = KeyID

/// The id of a gateway's key.
public typealias GatewayID = KeyID

import Crypto

/// A 32-byte SHA-256 value (a Merkle node, a block hash, an evidence hash, a state digest).
///
/// Stored as four big-endian words so comparisons and hashing are cheap; `bytes` and
/// `hex` give the conventional byte order.
public struct Hash256: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline var w0, w1, w2, w3: UInt64

    /// All 32 bytes zero: the "previous hash" of the first block.
    public static let zero = Hash256(w0: 0, w1: 0, w2: 0, w3: 0)

    @usableFromInline init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Creates a hash from exactly 32 bytes; returns nil for any other length.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 32 else { return nil }
        self.init(exactly32: bytes)
    }

    /// Parses 64 hex digits (either case); returns nil otherwise.
    public init?(hex: String) {
        guard let bytes = decodeHex(hex), bytes.count == 32 else { return nil }
        self.init(exactly32: bytes)
    }

    init<C: Collection>(exactly32 bytes: C) where C.Element == UInt8 {
        var words: [UInt64] = [0, 0, 0, 0]
        var i = 0
        for byte in bytes.prefix(32) {
            words[i >> 3] = words[i >> 3] << 8 | UInt64(byte)
            i += 1
        }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    init(_ digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { raw in
            Hash256(
                w0: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                w1: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
                w2: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                w3: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
            )
        }
    }

    /// SHA-256 of `data`.
    public static func sha256<D: DataProtocolLike>(_ data: D) -> Hash256 {
        data.withContiguousBytes { sha256(raw: $0) }
    }

    static func sha256(raw: UnsafeRawBufferPointer) -> Hash256 {
        var hasher = SHA256()
        hasher.update(bufferPointer: raw)
        return Hash256(hasher.finalize())
    }

    /// Calls `body` with the 32 bytes in conventional (big-endian) order.
    @inlinable func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var words = (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
        return try withUnsafeBytes(of: &words) { try body($0) }
    }

    /// The 32 bytes in conventional order.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// Lowercase hex, 64 characters.
    public var hex: String { encodeHex(bytes) }

    public var description: String { hex }
}

/// Byte containers the hashing helpers accept without copying: `[UInt8]`, `ArraySlice<UInt8>`.
public protocol DataProtocolLike {
    /// Calls `body` with the contiguous bytes.
    func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: DataProtocolLike where Element == UInt8 {
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

extension ArraySlice: DataProtocolLike where Element == UInt8 {
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }
}

/// Lowercase hex of `bytes`.
public func encodeHex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Bytes of a hex string (either case, no separators); nil if malformed.
public func decodeHex(_ hex: String) -> [UInt8]? {
    let chars = Array(hex.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out = [UInt8]()
    out.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
        guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

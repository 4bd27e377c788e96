import Crypto

/// RFC 6962 / RFC 9162 hashing: leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right),
/// and the root of the empty tree is SHA-256 of the empty string.
public enum Merkle {
    /// Root of the tree with no leaves: SHA-256("").
    public static let emptyRoot = Hash256(SHA256.hash(data: [UInt8]()))

    /// SHA-256(0x00 ‖ entry).
    public static func leafHash<D: DataProtocolLike>(_ entry: D) -> Hash256 {
        entry.withContiguousBytes { raw in
            var hasher = SHA256()
            withUnsafeBytes(of: UInt8(0)) { hasher.update(bufferPointer: $0) }
            hasher.update(bufferPointer: raw)
            return Hash256(hasher.finalize())
        }
    }

    /// SHA-256(0x01 ‖ left ‖ right).
    public static func nodeHash(_ left: Hash256, _ right: Hash256) -> Hash256 {
        var buffer = (
            UInt8(1),
            left.w0.bigEndian, left.w1.bigEndian, left.w2.bigEndian, left.w3.bigEndian,
            right.w0.bigEndian, right.w1.bigEndian, right.w2.bigEndian, right.w3.bigEndian
        )
        // The tuple's first member is padded to 8 bytes: hash from offset 7 with a 0x01 there.
        return withUnsafeMutableBytes(of: &buffer) { raw in
            raw[7] = 1
            return Hash256.sha256(raw: UnsafeRawBufferPointer(rebasing: raw[7..<72]))
        }
    }

    /// Root of the tree over `leafHashes` (MTH of RFC 6962 §2.1), computed from scratch.
    public static func root(leafHashes: [Hash256]) -> Hash256 {
        guard !leafHashes.isEmpty else { return emptyRoot }
        var level = leafHashes
        while level.count > 1 {
            var next = [Hash256]()
            next.reserveCapacity((level.count + 1) / 2)
            var i = 0
            while i + 1 < level.count {
                next.append(nodeHash(level[i], level[i + 1]))
                i += 2
            }
            if i < level.count { next.append(level[i]) }  // odd node is promoted unchanged
            level = next
        }
        return level[0]
    }

    /// The largest power of two strictly less than `n` (n ≥ 2).
    static func splitPoint(_ n: UInt64) -> UInt64 {
        UInt64(1) << (63 - UInt64((n - 1).leadingZeroBitCount))
    }
}

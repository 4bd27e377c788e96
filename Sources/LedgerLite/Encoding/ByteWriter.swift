/// Appends big-endian integers and raw bytes: the one way canonical encodings are built.
package struct ByteWriter {
    package private(set) var bytes: [UInt8]

    package init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    package mutating func u8(_ value: UInt8) { bytes.append(value) }

    package mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    package mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    package mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Two's-complement, big-endian.
    package mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

    package mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }

    package mutating func keyID(_ id: KeyID) {
        u64(id.high)
        u64(id.low)
    }

    package mutating func hash(_ hash: Hash256) { hash.withBytes { raw($0) } }

    /// `data` behind its length as a u32 (read back with `ByteReader.lengthPrefixed`).
    package mutating func lengthPrefixed(_ data: [UInt8]) {
        u32(UInt32(truncatingIfNeeded: data.count))
        raw(data)
    }

    /// 1 for true, 0 for false.
    package mutating func flag(_ value: Bool) { u8(value ? 1 : 0) }
}

/// Reads big-endian integers and raw bytes from a byte slice, throwing typed errors
/// instead of trapping on short input.
package struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    package private(set) var position: Int

    package init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    package var remaining: Int { bytes.endIndex - position }

    private mutating func take(_ count: Int, _ field: String) throws(RecordDecodingError) -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw .truncated(field: field, needed: count, remaining: remaining)
        }
        let slice = bytes[position..<position + count]
        position += count
        return slice
    }

    package mutating func u8(_ field: String) throws(RecordDecodingError) -> UInt8 {
        let s = try take(1, field)
        return s[s.startIndex]
    }

    package mutating func u16(_ field: String) throws(RecordDecodingError) -> UInt16 {
        let s = try take(2, field)
        return s.reduce(0) { $0 << 8 | UInt16($1) }
    }

    package mutating func u32(_ field: String) throws(RecordDecodingError) -> UInt32 {
        let s = try take(4, field)
        return s.reduce(0) { $0 << 8 | UInt32($1) }
    }

    package mutating func u64(_ field: String) throws(RecordDecodingError) -> UInt64 {
        let s = try take(8, field)
        return s.reduce(0) { $0 << 8 | UInt64($1) }
    }

    package mutating func i64(_ field: String) throws(RecordDecodingError) -> Int64 {
        Int64(bitPattern: try u64(field))
    }

    package mutating func raw(_ count: Int, _ field: String) throws(RecordDecodingError) -> ArraySlice<UInt8> {
        try take(count, field)
    }

    package mutating func keyID(_ field: String) throws(RecordDecodingError) -> KeyID {
        let high = try u64(field)
        let low = try u64(field)
        return KeyID(high: high, low: low)
    }

    package mutating func hash(_ field: String) throws(RecordDecodingError) -> Hash256 {
        Hash256(exactly32: try take(32, field))
    }

    /// A u32 item count, checked against what is left: each item takes at least `itemBytes`,
    /// so a hostile count cannot make the caller reserve or loop more than the input holds.
    package mutating func count(_ field: String, itemBytes: Int) throws(RecordDecodingError) -> Int {
        let n = Int(try u32(field))
        let limit = remaining / max(1, itemBytes)
        guard n <= limit else { throw .oversizeField(field: field, length: n, limit: limit) }
        return n
    }

    /// A byte that must be 0 or 1.
    package mutating func flag(_ field: String) throws(RecordDecodingError) -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        default: throw .invalidField(field: field, reason: "a flag must be 0 or 1")
        }
    }

    /// Bytes behind a u32 length (written by `ByteWriter.lengthPrefixed`), at most `limit`.
    package mutating func lengthPrefixed(_ field: String, limit: Int) throws(RecordDecodingError) -> [UInt8] {
        let n = Int(try u32(field))
        guard n <= limit else { throw .oversizeField(field: field, length: n, limit: limit) }
        return Array(try take(n, field))
    }

    /// Reads the type and version bytes and checks them against what the caller reads.
    mutating func header(type: UInt8, versions: ClosedRange<UInt8>) throws(RecordDecodingError) -> UInt8 {
        let found = try u8("record type")
        guard found == type else {
            if RecordType(rawValue: found) == nil && found != SignedRecord.envelopeType
                && found != BlockHeader.recordType
                && found != Block.wireType && found != GatewayCertificate.recordType && found != Checkpoint.recordType
            {
                throw .unknownRecordType(found)
            }
            throw .unexpectedRecordType(expected: type, found: found)
        }
        let version = try u8("version")
        guard versions.contains(version) else { throw .unsupportedVersion(recordType: type, version: version) }
        return version
    }

    /// Throws unless every byte has been consumed.
    package func finish() throws(RecordDecodingError) {
        if remaining != 0 { throw .trailingBytes(count: remaining) }
    }
}

/// Reads big-endian integers and raw bytes from a byte slice, throwing typed errors
/// instead of trapping on short input.
struct ByteReader {
    private let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    private mutating func take(_ count: Int, _ field: String) throws(RecordDecodingError) -> ArraySlice<UInt8> {
        guard count <= remaining else {
            throw .truncated(field: field, needed: count, remaining: remaining)
        }
        let slice = bytes[position..<position + count]
        position += count
        return slice
    }

    mutating func u8(_ field: String) throws(RecordDecodingError) -> UInt8 {
        let s = try take(1, field)
        return s[s.startIndex]
    }

    mutating func u16(_ field: String) throws(RecordDecodingError) -> UInt16 {
        let s = try take(2, field)
        return s.reduce(0) { $0 << 8 | UInt16($1) }
    }

    mutating func u32(_ field: String) throws(RecordDecodingError) -> UInt32 {
        let s = try take(4, field)
        return s.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64(_ field: String) throws(RecordDecodingError) -> UInt64 {
        let s = try take(8, field)
        return s.reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func i64(_ field: String) throws(RecordDecodingError) -> Int64 {
        Int64(bitPattern: try u64(field))
    }

    mutating func raw(_ count: Int, _ field: String) throws(RecordDecodingError) -> ArraySlice<UInt8> {
        try take(count, field)
    }

    mutating func keyID(_ field: String) throws(RecordDecodingError) -> KeyID {
        let high = try u64(field)
        let low = try u64(field)
        return KeyID(high: high, low: low)
    }

    mutating func hash(_ field: String) throws(RecordDecodingError) -> Hash256 {
        Hash256(exactly32: try take(32, field))
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
    func finish() throws(RecordDecodingError) {
        if remaining != 0 { throw .trailingBytes(count: remaining) }
    }
}

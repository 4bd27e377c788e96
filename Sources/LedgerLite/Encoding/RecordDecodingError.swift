/// Why a byte string was rejected by one of LedgerLite's canonical decoders.
///
/// Every decoder is strict: a value is accepted only if re-encoding it would give back
/// exactly the same bytes, so two different byte strings never decode to the same value.
public enum RecordDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended while `field` still needed `needed` bytes; only `remaining` were left.
    case truncated(field: String, needed: Int, remaining: Int)
    /// The value was complete but `count` bytes followed it.
    case trailingBytes(count: Int)
    /// The leading type byte names no record type this library knows.
    case unknownRecordType(UInt8)
    /// The leading type byte is a known type, but not the one this decoder reads.
    case unexpectedRecordType(expected: UInt8, found: UInt8)
    /// The version byte names a version of the format this library cannot read.
    case unsupportedVersion(recordType: UInt8, version: UInt8)
    /// A length-prefixed field declares `length` bytes (or items), more than `limit`.
    case oversizeField(field: String, length: Int, limit: Int)
    /// A field holds a value the format forbids (zero sequence number, reserved bits, …).
    case invalidField(field: String, reason: String)
    /// A measurand code that this version of the Reading format does not define.
    case unknownMeasurand(code: UInt16)
    /// Measurands must be strictly ascending by code; the one at `position` is not.
    case measurandsNotAscending(position: Int, code: UInt16)
    /// A text field is not valid UTF-8.
    case invalidUTF8(field: String)

    public var description: String {
        switch self {
        case let .truncated(field, needed, remaining):
            return "truncated input: field '\(field)' needs \(needed) bytes but only \(remaining) remain"
        case let .trailingBytes(count):
            return "\(count) unexpected trailing byte(s) after the end of the value"
        case let .unknownRecordType(type):
            return "unknown record type 0x\(hexByte(type))"
        case let .unexpectedRecordType(expected, found):
            return "expected record type 0x\(hexByte(expected)) but found 0x\(hexByte(found))"
        case let .unsupportedVersion(type, version):
            return "record type 0x\(hexByte(type)) has unsupported version \(version)"
        case let .oversizeField(field, length, limit):
            return "field '\(field)' declares \(length), more than the limit of \(limit)"
        case let .invalidField(field, reason):
            return "field '\(field)' is invalid: \(reason)"
        case let .unknownMeasurand(code):
            return "unknown measurand code 0x\(String(code, radix: 16))"
        case let .measurandsNotAscending(position, code):
            return
                "measurand #\(position) (code 0x\(String(code, radix: 16))) is not strictly after the previous one (measurands must be sorted and unique)"
        case let .invalidUTF8(field):
            return "field '\(field)' is not valid UTF-8"
        }
    }
}

func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}

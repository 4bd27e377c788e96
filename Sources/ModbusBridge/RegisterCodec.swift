/// How a value is stored in registers.
public enum DataType: String, Sendable, Hashable, Codable, CaseIterable {
    case uint16, int16, uint32, int32, uint64, int64, float32, float64

    /// Registers (16-bit words) the value occupies.
    public var registerCount: Int {
        switch self {
        case .uint16, .int16: 1
        case .uint32, .int32, .float32: 2
        case .uint64, .int64, .float64: 4
        }
    }

    /// True for `float32` and `float64`.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
}

/// Byte and word order of a multi-register value, named after the bytes of a 32-bit value
/// `A B C D` (A most significant) as they appear on the wire.
///
/// - `ABCD`: big-endian, high word first (the Modbus convention; Eastron).
/// - `CDAB`: low word first, bytes big-endian in each word (Carlo Gavazzi, many PLCs).
/// - `BADC`: high word first, bytes swapped in each word.
/// - `DCBA`: little-endian throughout.
///
/// 64-bit values follow the same two rules (word order reversed, bytes swapped). For
/// one-register values only the byte swap applies.
public enum WordOrder: String, Sendable, Hashable, Codable, CaseIterable {
    case ABCD, CDAB, BADC, DCBA

    var reversesWords: Bool { self == .CDAB || self == .DCBA }
    var swapsBytes: Bool { self == .BADC || self == .DCBA }
}

/// A value as stored in registers, before scaling.
public enum RawValue: Sendable, Hashable, CustomStringConvertible {
    case signed(Int64)
    case unsigned(UInt64)
    case float(Double)

    /// The value as a Double.
    public var doubleValue: Double {
        switch self {
        case .signed(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .float(let value): value
        }
    }

    public var description: String {
        switch self {
        case .signed(let value): String(value)
        case .unsigned(let value): String(value)
        case .float(let value): String(value)
        }
    }
}

/// Converts between register words and values, for every `DataType` and `WordOrder`.
public enum RegisterCodec {
    /// Decodes the value in `registers`, which must hold exactly `type.registerCount` words.
    public static func decode(_ registers: ArraySlice<UInt16>, as type: DataType, order: WordOrder) -> RawValue {
        precondition(registers.count == type.registerCount, "decode needs \(type.registerCount) registers")
        let bits = combine(registers, order: order)
        switch type {
        case .uint16, .uint32, .uint64: return .unsigned(bits)
        case .int16: return .signed(Int64(Int16(truncatingIfNeeded: bits)))
        case .int32: return .signed(Int64(Int32(truncatingIfNeeded: bits)))
        case .int64: return .signed(Int64(bitPattern: bits))
        case .float32: return .float(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
        case .float64: return .float(Double(bitPattern: bits))
        }
    }

    /// Encodes `value` into `type.registerCount` words.
    /// Throws when the value does not fit the type (an integer out of range, a fraction
    /// for an integer type, or a non-finite number).
    public static func encode(
        _ value: RawValue,
        as type: DataType,
        order: WordOrder
    ) throws(RegisterCodecError) -> [UInt16] {
        let bits: UInt64
        switch type {
        case .float32:
            bits = UInt64(Float(value.doubleValue).bitPattern)
        case .float64:
            bits = value.doubleValue.bitPattern
        case .uint16: bits = UInt64(try unsigned(value, max: UInt64(UInt16.max), type))
        case .uint32: bits = UInt64(try unsigned(value, max: UInt64(UInt32.max), type))
        case .uint64: bits = try unsigned(value, max: UInt64.max, type)
        case .int16:
            bits = UInt64(UInt16(bitPattern: Int16(try signed(value, Int64(Int16.min)...Int64(Int16.max), type))))
        case .int32:
            bits = UInt64(UInt32(bitPattern: Int32(try signed(value, Int64(Int32.min)...Int64(Int32.max), type))))
        case .int64: bits = UInt64(bitPattern: try signed(value, Int64.min...Int64.max, type))
        }
        return split(bits, count: type.registerCount, order: order)
    }

    /// The value's bits in `registers` as one unsigned integer of the type's width, word and
    /// byte order undone (what a profile's `nan` sentinel is compared with).
    public static func bits(_ registers: ArraySlice<UInt16>, order: WordOrder) -> UInt64 {
        combine(registers, order: order)
    }

    /// The registers holding `bits`, the inverse of `bits(_:order:)`.
    public static func registers(bits: UInt64, count: Int, order: WordOrder) -> [UInt16] {
        split(bits, count: count, order: order)
    }

    private static func combine(_ registers: ArraySlice<UInt16>, order: WordOrder) -> UInt64 {
        var words = Array(registers)
        if order.reversesWords { words.reverse() }
        var bits: UInt64 = 0
        for word in words {
            bits = bits << 16 | UInt64(order.swapsBytes ? word.byteSwapped : word)
        }
        return bits
    }

    private static func split(_ bits: UInt64, count: Int, order: WordOrder) -> [UInt16] {
        var words = (0..<count).map { index in
            UInt16(truncatingIfNeeded: bits >> (16 * UInt64(count - 1 - index)))
        }
        if order.swapsBytes { words = words.map(\.byteSwapped) }
        if order.reversesWords { words.reverse() }
        return words
    }

    private static func unsigned(_ value: RawValue, max: UInt64, _ type: DataType) throws(RegisterCodecError) -> UInt64
    {
        switch value {
        case .unsigned(let v) where v <= max: return v
        case .signed(let v) where v >= 0 && UInt64(v) <= max: return UInt64(v)
        case .float(let v) where v.isFinite && v >= 0 && v == v.rounded() && v <= Double(max):
            return v >= 18446744073709551615.0 ? UInt64.max : UInt64(v)
        default: throw RegisterCodecError(value: value, type: type)
        }
    }

    private static func signed(
        _ value: RawValue,
        _ range: ClosedRange<Int64>,
        _ type: DataType
    ) throws(RegisterCodecError) -> Int64 {
        switch value {
        case .signed(let v) where range.contains(v): return v
        case .unsigned(let v) where v <= UInt64(range.upperBound): return Int64(v)
        case .float(let v)
        where v.isFinite && v == v.rounded()
            && v >= Double(range.lowerBound) && v < Double(range.upperBound):
            return Int64(v)
        default: throw RegisterCodecError(value: value, type: type)
        }
    }
}

/// A value that does not fit the data type it is to be stored as.
public struct RegisterCodecError: Error, Sendable, CustomStringConvertible {
    public var value: RawValue
    public var type: DataType
    public var description: String { "value \(value) does not fit \(type.rawValue)" }
}

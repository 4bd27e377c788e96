/// What a served unit lets a client do, decided as a meter's firmware decides it: before a
/// request touches a register.
///
/// A function code the unit does not implement gets exception 01 ILLEGAL FUNCTION. A write
/// (functions 05, 06, 15, 16, 22, 23) to a coil or holding register outside the writable
/// ranges gets exception 02 ILLEGAL DATA ADDRESS and changes nothing. Everything else is left
/// to libmodbus, which answers from the unit's bank (and checks quantities and the map).
public struct AccessRules: Sendable, Hashable {
    /// The function codes the unit implements.
    public var functions: Set<UInt8>
    /// Coils a client may write (functions 05 and 15).
    public var writableCoils: [Range<Int>]
    /// Holding registers a client may write (functions 06, 16, 22 and 23).
    public var writableRegisters: [Range<Int>]

    public init(functions: Set<UInt8>, writableCoils: [Range<Int>], writableRegisters: [Range<Int>]) {
        self.functions = functions
        self.writableCoils = writableCoils
        self.writableRegisters = writableRegisters
    }

    /// Every function libmodbus serves, every coil and register writable: a plain Modbus
    /// server, not a meter.
    public static let unrestricted = AccessRules(
        functions: Set(1...127),
        writableCoils: [0..<0x10000],
        writableRegisters: [0..<0x10000]
    )

    /// A meter whose every register is a measurement: nothing is writable. `functions` are
    /// the codes its firmware implements (nil: any libmodbus serves).
    public static func readOnly(functions: Set<UInt8>?) -> AccessRules {
        AccessRules(functions: functions ?? Set(1...127), writableCoils: [], writableRegisters: [])
    }

    /// The exception the unit answers `function` with, given the request's data (the PDU after
    /// the function code), or nil when the request may go on to the register bank.
    func refusal(function: UInt8, data: ArraySlice<UInt8>) -> ModbusException? {
        guard functions.contains(function) else { return .illegalFunction }
        guard let target = WriteTarget(function: function, data: data) else { return nil }
        let writable = target.coils ? writableCoils : writableRegisters
        let covered = writable.contains { $0.contains(target.first) && target.end <= $0.upperBound }
        return covered ? nil : .illegalDataAddress
    }
}

/// The coils or registers a write request would change, read from its PDU.
///
/// Nil for requests that write nothing, and for writes whose quantity is out of the range
/// Modbus allows or whose data is too short: libmodbus answers those with exception 03, as
/// the specification orders the checks (function, then quantity, then address).
struct WriteTarget: Equatable {
    /// True for coils, false for holding registers.
    var coils: Bool
    /// The first address written.
    var first: Int
    /// One past the last address written.
    var end: Int

    init?(function: UInt8, data: ArraySlice<UInt8>) {
        func word(_ offset: Int) -> Int? {
            let index = data.startIndex + offset
            guard index + 1 < data.endIndex else { return nil }
            return Int(data[index]) << 8 | Int(data[index + 1])
        }
        let address: Int?
        let quantity: Int?
        let limit: Int
        switch function {
        case 0x05:  // write single coil
            (coils, address, quantity, limit) = (true, word(0), 1, 1)
        case 0x0F:  // write multiple coils
            (coils, address, quantity, limit) = (true, word(0), word(2), 0x7B0)
        case 0x06, 0x16:  // write single register, mask write register
            (coils, address, quantity, limit) = (false, word(0), 1, 1)
        case 0x10:  // write multiple registers
            (coils, address, quantity, limit) = (false, word(0), word(2), 0x7B)
        case 0x17:  // read/write multiple registers: the write half
            (coils, address, quantity, limit) = (false, word(4), word(6), 0x79)
        default:
            return nil
        }
        guard let address, let quantity, (1...limit).contains(quantity) else { return nil }
        first = address
        end = address + quantity
    }
}

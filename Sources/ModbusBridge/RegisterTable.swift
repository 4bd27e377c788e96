/// The four Modbus data tables.
public enum RegisterTable: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Read/write bits (function codes 01, 05, 15).
    case coils = "coil"
    /// Read-only bits (function code 02).
    case discreteInputs = "discrete"
    /// Read/write 16-bit registers (function codes 03, 06, 16).
    case holdingRegisters = "holding"
    /// Read-only 16-bit registers (function code 04).
    case inputRegisters = "input"

    /// True for the two register tables.
    public var holdsRegisters: Bool { self == .holdingRegisters || self == .inputRegisters }

    public var description: String {
        switch self {
        case .coils: "coils"
        case .discreteInputs: "discrete inputs"
        case .holdingRegisters: "holding registers"
        case .inputRegisters: "input registers"
        }
    }
}

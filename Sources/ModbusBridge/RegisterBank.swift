internal import CModbus
import Foundation

/// Which addresses of each table a register bank holds.
public struct BankLayout: Sendable, Hashable {
    public var coils: Range<Int>
    public var discreteInputs: Range<Int>
    public var holdingRegisters: Range<Int>
    public var inputRegisters: Range<Int>

    public init(
        coils: Range<Int> = 0..<0,
        discreteInputs: Range<Int> = 0..<0,
        holdingRegisters: Range<Int> = 0..<0,
        inputRegisters: Range<Int> = 0..<0
    ) {
        self.coils = coils
        self.discreteInputs = discreteInputs
        self.holdingRegisters = holdingRegisters
        self.inputRegisters = inputRegisters
    }

    /// The smallest layout holding every measurand of `profile`, from its lowest to its
    /// highest register in each table. Reads beyond it get exception 02, as on the meter.
    public static func covering(_ profile: MeterProfile) -> BankLayout {
        func span(_ table: RegisterTable) -> Range<Int> {
            let measurands = profile.measurands.filter { $0.table == table }
            let scaleRegisters = measurands.compactMap { $0.scaleRegister.map(Int.init) }
            guard let low = (measurands.map({ Int($0.address) }) + scaleRegisters).min(),
                let high = (measurands.map(\.endAddress) + scaleRegisters.map { $0 + 1 }).max()
            else { return 0..<0 }
            return low..<high
        }
        return BankLayout(holdingRegisters: span(.holdingRegisters), inputRegisters: span(.inputRegisters))
    }

    func range(of table: RegisterTable) -> Range<Int> {
        switch table {
        case .coils: coils
        case .discreteInputs: discreteInputs
        case .holdingRegisters: holdingRegisters
        case .inputRegisters: inputRegisters
        }
    }
}

/// A write of consecutive registers, as produced by `MeterProfile.registerWrites`.
public struct RegisterWrite: Sendable, Hashable {
    public var table: RegisterTable
    public var address: UInt16
    public var values: [UInt16]

    public init(table: RegisterTable, address: UInt16, values: [UInt16]) {
        self.table = table
        self.address = address
        self.values = values
    }
}

/// The data a served unit holds: coils, discrete inputs, holding and input registers, and
/// which of them a client may write.
///
/// Backed by a libmodbus `modbus_mapping_t`, which `modbus_reply` answers from. Updates
/// and replies take the same lock, so a client always reads a consistent snapshot of a
/// batch applied with `apply(_:)`. `access` binds clients only: `apply` and the setters are
/// the owner's, and may change any value (an emulated meter's measurements).
public final class RegisterBank: @unchecked Sendable {
    /// The addresses this bank holds.
    public let layout: BankLayout
    /// What a client may do with the bank over Modbus.
    public let access: AccessRules
    private let mapping: UnsafeMutablePointer<modbus_mapping_t>
    private let lock = NSLock()

    /// A bank holding `layout`, zeroed; clients are bound by `access` (by default a plain
    /// Modbus server's: every coil and holding register writable).
    public init(layout: BankLayout, access: AccessRules = .unrestricted) throws(ModbusError) {
        for table in RegisterTable.allCases {
            let range = layout.range(of: table)
            guard range.lowerBound >= 0, range.upperBound <= 0x10000 else {
                throw .invalidArgument("\(table) range \(range) is outside 0…65535", operation: "create register bank")
            }
        }
        guard
            let mapping = modbus_mapping_new_start_address(
                UInt32(layout.coils.lowerBound),
                UInt32(layout.coils.count),
                UInt32(layout.discreteInputs.lowerBound),
                UInt32(layout.discreteInputs.count),
                UInt32(layout.holdingRegisters.lowerBound),
                UInt32(layout.holdingRegisters.count),
                UInt32(layout.inputRegisters.lowerBound),
                UInt32(layout.inputRegisters.count)
            )
        else {
            throw ModbusError.fromErrno(errno, operation: "create register bank")
        }
        self.layout = layout
        self.access = access
        self.mapping = mapping
    }

    deinit {
        modbus_mapping_free(mapping)
    }

    /// Writes registers of the holding or input table.
    public func setRegisters(_ values: [UInt16], table: RegisterTable, at address: UInt16) throws(ModbusError) {
        try apply([RegisterWrite(table: table, address: address, values: values)])
    }

    /// Applies several writes at once: no client sees some of them without the others.
    public func apply(_ writes: [RegisterWrite]) throws(ModbusError) {
        for write in writes {
            try checkRange(write.table, address: write.address, count: write.values.count, registers: true)
        }
        lock.withLock {
            for write in writes {
                let base = registerBase(write.table)
                let offset = Int(write.address) - layout.range(of: write.table).lowerBound
                for (index, value) in write.values.enumerated() {
                    base[offset + index] = value
                }
            }
        }
    }

    /// Reads registers of the holding or input table.
    public func registers(_ table: RegisterTable, at address: UInt16, count: Int) throws(ModbusError) -> [UInt16] {
        try checkRange(table, address: address, count: count, registers: true)
        return lock.withLock {
            let base = registerBase(table)
            let offset = Int(address) - layout.range(of: table).lowerBound
            return (0..<count).map { base[offset + $0] }
        }
    }

    /// Writes coils or discrete inputs.
    public func setBits(_ values: [Bool], table: RegisterTable, at address: UInt16) throws(ModbusError) {
        try checkRange(table, address: address, count: values.count, registers: false)
        lock.withLock {
            let base = bitBase(table)
            let offset = Int(address) - layout.range(of: table).lowerBound
            for (index, value) in values.enumerated() {
                base[offset + index] = value ? 1 : 0
            }
        }
    }

    /// Reads coils or discrete inputs.
    public func bits(_ table: RegisterTable, at address: UInt16, count: Int) throws(ModbusError) -> [Bool] {
        try checkRange(table, address: address, count: count, registers: false)
        return lock.withLock {
            let base = bitBase(table)
            let offset = Int(address) - layout.range(of: table).lowerBound
            return (0..<count).map { base[offset + $0] != 0 }
        }
    }

    /// Runs `body` with the libmodbus mapping, holding the bank's lock.
    func withMapping<Result>(
        _ body: (UnsafeMutablePointer<modbus_mapping_t>) throws(ModbusError) -> Result
    ) throws(ModbusError) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(mapping)
    }

    private func registerBase(_ table: RegisterTable) -> UnsafeMutablePointer<UInt16> {
        table == .holdingRegisters ? mapping.pointee.tab_registers : mapping.pointee.tab_input_registers
    }

    private func bitBase(_ table: RegisterTable) -> UnsafeMutablePointer<UInt8> {
        table == .coils ? mapping.pointee.tab_bits : mapping.pointee.tab_input_bits
    }

    private func checkRange(_ table: RegisterTable, address: UInt16, count: Int, registers: Bool) throws(ModbusError) {
        let operation = "access \(count) \(table) at \(hex(address)) of a register bank"
        guard table.holdsRegisters == registers else {
            throw .invalidArgument("\(table) is the wrong table for this call", operation: operation)
        }
        let range = layout.range(of: table)
        guard count >= 0, Int(address) >= range.lowerBound, Int(address) + count <= range.upperBound else {
            throw .invalidArgument(
                "the bank holds \(table) \(range.lowerBound)..<\(range.upperBound) only",
                operation: operation
            )
        }
    }
}

extension MeterProfile {
    /// The register writes that store `values` (scaled, by measurand name) as this meter
    /// encodes them. Unknown names and values that do not fit their type are errors.
    ///
    /// A scale register shared by measurands gets one exponent for all of them: the
    /// smallest, from the unit's usual one (`emulatedExponent`) up, that lets each value fit
    /// its type, as a SunSpec device keeps one scale factor per group of values.
    public func registerWrites(for values: [String: Double]) throws(ProfileValueError) -> [RegisterWrite] {
        var chosen: [String: (Measurand, Double)] = [:]
        for (name, value) in values {
            guard let measurand = measurand(named: name) else {
                throw ProfileValueError(profile: self.name, measurand: name, problem: "no such measurand")
            }
            chosen[name] = (measurand, value)
        }
        var exponents: [ScaleRegisterKey: Int16] = [:]
        for (measurand, value) in chosen.values {
            guard let register = measurand.scaleRegister else { continue }
            let key = ScaleRegisterKey(table: measurand.table, address: register)
            var exponent = Self.emulatedExponent(unit: measurand.unit)
            while exponent < Measurand.scaleExponents.upperBound,
                (try? measurand.encode(value, exponent: exponent)) == nil
            {
                exponent += 1
            }
            exponents[key] = max(exponents[key] ?? .min, exponent)
        }
        var writes: [RegisterWrite] = exponents.sorted {
            ($0.key.table.rawValue, $0.key.address) < ($1.key.table.rawValue, $1.key.address)
        }.map {
            RegisterWrite(table: $0.key.table, address: $0.key.address, values: [UInt16(bitPattern: $0.value)])
        }
        for (name, (measurand, value)) in chosen.sorted(by: { $0.key < $1.key }) {
            let exponent =
                measurand.scaleRegister.flatMap { exponents[ScaleRegisterKey(table: measurand.table, address: $0)] }
                ?? 0
            do {
                writes.append(
                    RegisterWrite(
                        table: measurand.table,
                        address: measurand.address,
                        values: try measurand.encode(value, exponent: exponent)
                    )
                )
            } catch {
                throw ProfileValueError(profile: self.name, measurand: name, problem: error.description)
            }
        }
        return writes
    }

    /// The writes that mark every measurand not in `names` as not available, for those whose
    /// profile gives a `nan` sentinel (an emulated meter's values it does not simulate).
    public func unavailableWrites(except names: Set<String>) -> [RegisterWrite] {
        measurands.compactMap { measurand in
            guard !names.contains(measurand.name), let registers = measurand.unavailable() else { return nil }
            return RegisterWrite(table: measurand.table, address: measurand.address, values: registers)
        }
    }

    /// The power of ten a scale register starts from for a value in `unit`: tenths of a volt,
    /// hundredths of an ampere and a hertz, thousandths of a power factor, whole watts and
    /// watt-hours, thousandths of the kilo units.
    static func emulatedExponent(unit: String) -> Int16 {
        switch unit {
        case "V": -1
        case "A", "Hz": -2
        case "": -3
        case "kW", "kVA", "kvar", "kWh", "kVAh", "kvarh": -3
        default: 0
        }
    }

    private struct ScaleRegisterKey: Hashable {
        var table: RegisterTable
        var address: UInt16
    }
}

/// A value that cannot be stored for a measurand.
public struct ProfileValueError: Error, Sendable, CustomStringConvertible {
    public var profile: String
    public var measurand: String
    public var problem: String
    public var description: String { "\(profile).\(measurand): \(problem)" }
}

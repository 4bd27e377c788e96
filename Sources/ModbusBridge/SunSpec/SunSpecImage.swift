/// A SunSpec device's registers as an emulator serves them: the `SunS` marker at `base`,
/// the common model (1), one inverter or meter model, and the end marker, in holding
/// registers.
///
/// `profile` holds the model's points that a simulation fills (by our measurand names);
/// `fixedWrites` writes everything else once: the marker and the models' `ID` and `L`, the
/// common model's strings, and each other point's "not implemented" value.
public struct SunSpecImage: Sendable {
    /// Address of the marker.
    public let base: UInt16
    public let definition: SunSpecModelDefinition
    /// The model's points we fill, for the phases the model has.
    public let profile: MeterProfile
    /// From the marker to the end marker's length register.
    public let layout: BankLayout

    /// The models an emulator can present.
    public static var models: [UInt16] {
        SunSpecModelDefinition.known.keys.filter { SunSpecModelDefinition.kind(of: $0) != .common }.sorted()
    }

    /// Where the device model's `ID` register is.
    public var modelAddress: UInt16 { base + 2 + 2 + UInt16(Self.common.length) }

    static let common = SunSpecModelDefinition.known[1]!

    public init(model: UInt16, base: UInt16 = 40000) throws(SunSpecImageError) {
        guard let definition = SunSpecModelDefinition.known[model], SunSpecModelDefinition.kind(of: model) != .common
        else { throw SunSpecImageError(model: model, base: base) }
        let size = 2 + (2 + Self.common.length) + (2 + definition.length) + 2
        guard Int(base) + size <= 0x10000 else { throw SunSpecImageError(model: model, base: base) }
        self.base = base
        self.definition = definition
        self.layout = BankLayout(holdingRegisters: Int(base)..<Int(base) + size)
        let modelAddress = base + 4 + UInt16(Self.common.length)
        self.profile = MeterProfile(
            name: "sunspec-\(model)",
            manufacturer: "GridLedger",
            model: "SunSpec \(model) emulated",
            source: "SunSpec model \(model) (\(definition.label))",
            description: definition.label,
            maxGap: 125,
            measurands: definition.measurands(at: modelAddress, phases: definition.emulatedPhases)
        )
    }

    /// The registers that do not change: marker, headers, the common model (`common`, device
    /// address `unit`), the model's other points as "not implemented" (its event bits 0, an
    /// inverter's state 4, MPPT), the simulated points' scale factors "not implemented" until the
    /// simulation writes them, and the end marker.
    public func fixedWrites(common: SunSpecCommon, unit: UInt8) -> [RegisterWrite] {
        var words: [UInt16] = SunSpecMarker.registers
        var commonBlock = [UInt16](repeating: 0, count: 2 + Self.common.length)
        commonBlock[0] = 1
        commonBlock[1] = UInt16(Self.common.length)
        let strings: [(String, String)] = [
            ("Mn", common.manufacturer), ("Md", common.model), ("Vr", common.version), ("SN", common.serialNumber),
        ]
        for (name, text) in strings {
            guard let point = Self.common.point(named: name) else { continue }
            let registers = SunSpecDiscovery.registers(string: text, count: point.size)
            commonBlock.replaceSubrange(point.offset..<point.offset + point.size, with: registers)
        }
        if let address = Self.common.point(named: "DA") { commonBlock[address.offset] = UInt16(unit) }
        if let pad = Self.common.point(named: "Pad") { commonBlock[pad.offset] = 0x8000 }
        words += commonBlock

        var modelBlock = [UInt16](repeating: 0, count: 2 + definition.length)
        for point in definition.points where point.offset >= 2 {
            let bits: UInt64
            switch (point.type, point.name) {
            case (.bitfield32, _), (.bitfield16, _): bits = 0
            case (.enum16, "St"): bits = 4
            default: bits = point.type.notImplemented
            }
            let registers = RegisterCodec.registers(bits: bits, count: point.size, order: .ABCD)
            modelBlock.replaceSubrange(point.offset..<point.offset + point.size, with: registers)
        }
        modelBlock[0] = definition.id
        modelBlock[1] = UInt16(definition.length)
        words += modelBlock
        words += [SunSpecMarker.endModelID, 0]
        return [RegisterWrite(table: .holdingRegisters, address: base, values: words)]
    }
}

/// A SunSpec model the emulator cannot present, or a base it does not fit at.
public struct SunSpecImageError: Error, Sendable, CustomStringConvertible {
    public var model: UInt16
    public var base: UInt16

    public var description: String {
        guard SunSpecModelDefinition.known[model] != nil, SunSpecModelDefinition.kind(of: model) != .common else {
            return "SunSpec model \(model) cannot be emulated; choose one of "
                + SunSpecImage.models.map(String.init).joined(separator: ", ")
        }
        return "SunSpec model \(model) does not fit below register 65535 from base \(base); use base 0, 40000 or 50000"
    }
}

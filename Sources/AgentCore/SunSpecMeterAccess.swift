import ModbusBridge

/// A SunSpec meter the agent reads without a profile (`profile: sunspec`): its map is found by
/// discovery, at start and, as long as that fails (the device is off or unreachable), again
/// before each poll; once found, it is read as a profiled meter.
package actor SunSpecMeterAccess {
    package nonisolated let client: ModbusClient
    package nonisolated let unit: UInt8
    /// The model to read when the device has several (`sunspec-203`); nil takes the first meter
    /// model, else the first inverter model.
    package nonisolated let model: UInt16?
    private var discovered: (reader: MeterReader, factory: ReadingFactory)?

    package init(client: ModbusClient, unit: UInt8, model: UInt16?) {
        self.client = client
        self.unit = unit
        self.model = model
    }

    /// The profile names that ask for discovery: `sunspec`, or `sunspec-ID` for model ID.
    package static func model(inProfileName name: String) -> UInt16?? {
        let lowered = name.lowercased()
        if lowered == "sunspec" { return .some(nil) }
        guard lowered.hasPrefix("sunspec-"), let id = UInt16(lowered.dropFirst("sunspec-".count)) else { return nil }
        return .some(id)
    }

    /// The reader and reading factory, discovering the map first if it is not known yet.
    package func resolve() async throws -> (reader: MeterReader, factory: ReadingFactory) {
        if let discovered { return discovered }
        let device = try await SunSpecDiscovery(client: client, unit: unit).discover()
        let profile = try device.profile(model: model)
        let factory = ReadingFactory(profile: profile)
        guard factory.measurands.contains(.energyImportWh) || factory.measurands.contains(.energyExportWh) else {
            throw SunSpecMeterError.noEnergyRegister(profile: profile.name)
        }
        let found = (MeterReader(client: client, profile: profile, unit: unit), factory)
        discovered = found
        return found
    }
}

/// A SunSpec device the agent cannot sign readings for.
package enum SunSpecMeterError: Error, Sendable, CustomStringConvertible {
    case noEnergyRegister(profile: String)

    package var description: String {
        switch self {
        case .noEnergyRegister(let profile):
            "the SunSpec device's model (\(profile)) has no energy counter (TotWhImp, TotWhExp or WH); a signed reading needs one"
        }
    }
}

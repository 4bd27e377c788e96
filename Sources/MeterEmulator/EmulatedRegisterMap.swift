import ModbusBridge
import OperatorKit

/// What an emulated meter serves: a profile's register map, or a SunSpec device.
package struct EmulatedRegisterMap: Sendable {
    /// The measurands the simulation fills.
    package let profile: MeterProfile
    /// The registers the meter holds.
    package let layout: BankLayout
    /// Registers written once, before the first simulated values (a SunSpec device's marker,
    /// headers, common model and points it does not implement).
    package let fixed: [RegisterWrite]

    /// The profile's map, as on the profiled meter.
    package init(profile: MeterProfile) {
        self.profile = profile
        self.layout = .covering(profile)
        self.fixed = []
    }

    /// A SunSpec device presenting `image` as unit `unit`.
    package init(sunspec image: SunSpecImage, unit: UInt8, seed: UInt64) {
        self.profile = image.profile
        self.layout = image.layout
        self.fixed = image.fixedWrites(
            common: SunSpecCommon(
                manufacturer: "GridLedger",
                model: "Emulated SunSpec \(image.definition.id)",
                version: "1.0",
                serialNumber: "GL\(image.definition.id)-\(seed)"
            ),
            unit: unit
        )
    }

    /// The map of `meter`: its SunSpec model (`sunspec-ID` as its profile), or its profile from `library`.
    package static func of(_ meter: FleetConfig.Meter, library: ProfileLibrary) throws -> EmulatedRegisterMap {
        if let model = SunSpecEmulation.model(inProfileName: meter.profile) {
            let image = try SunSpecImage(model: model, base: meter.sunspecBase)
            return EmulatedRegisterMap(sunspec: image, unit: meter.unit, seed: meter.seed)
        }
        return EmulatedRegisterMap(profile: try library.profile(named: meter.profile))
    }
}

/// How fleet files and flags name an emulated SunSpec device: the profile name `sunspec-ID`.
package enum SunSpecEmulation {
    /// Bases the emulator may put the marker at.
    package static let bases: [UInt16] = [0, 40000, 50000]

    /// The profile name of an emulated SunSpec device with model `model`.
    package static func profileName(model: UInt16) -> String { "sunspec-\(model)" }

    /// The model of a `sunspec-ID` profile name, nil for other names.
    package static func model(inProfileName name: String) -> UInt16? {
        guard name.lowercased().hasPrefix("sunspec-") else { return nil }
        return UInt16(name.dropFirst("sunspec-".count))
    }

    /// Checks a `sunspec-ID` name; other names pass (the profile library checks them).
    package static func check(profileName name: String, base: UInt16, context: String) throws {
        guard name.lowercased().hasPrefix("sunspec") else { return }
        guard let model = Self.model(inProfileName: name) else {
            throw ConfigFileError(
                context,
                "'\(name)' is not a SunSpec device; write sunspec-ID with ID one of "
                    + SunSpecImage.models.map(String.init).joined(separator: ", ")
            )
        }
        do {
            _ = try SunSpecImage(model: model, base: base)
        } catch {
            throw ConfigFileError(context, "\(error)")
        }
    }
}

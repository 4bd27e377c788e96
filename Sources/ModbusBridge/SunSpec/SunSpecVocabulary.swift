/// Which SunSpec points we read, and as which of our measurands (name, OBIS code, unit).
///
/// Meters (201–204, 211–214) count as SunSpec says: power and energy imported from the grid
/// are positive (`W` > 0 imports, `TotWhImp` counts import). An inverter (101–103, 111–113)
/// reports what it produces: its `W` is turned into our signed power (− export) and its
/// lifetime `WH` becomes the export counter. Points outside this table (DC values,
/// temperatures, states, events, apparent and reactive energy) are not read.
public enum SunSpecVocabulary {
    /// One point as one of our measurands.
    public struct Entry: Sendable, Hashable {
        public var point: String
        public var measurand: String
        public var obis: String?
        /// The phase (1–3) the value belongs to, nil for totals.
        public var phase: Int?
        /// Multiplier from the point's value in its SunSpec unit to ours.
        public var factor: Double

        init(_ point: String, _ measurand: String, _ obis: String? = nil, phase: Int? = nil, factor: Double = 1) {
            self.point = point
            self.measurand = measurand
            self.obis = obis
            self.phase = phase
            self.factor = factor
        }
    }

    /// The entries for a model of this kind.
    public static func entries(for kind: SunSpecModelDefinition.Kind) -> [Entry] {
        switch kind {
        case .meter: meter
        case .inverter: inverter
        case .common, .other: []
        }
    }

    private static let phaseCurrents: [Entry] = [
        Entry("AphA", "current_l1", "1-0:31.7.0", phase: 1),
        Entry("AphB", "current_l2", "1-0:51.7.0", phase: 2),
        Entry("AphC", "current_l3", "1-0:71.7.0", phase: 3),
    ]

    private static let meter: [Entry] =
        [Entry("A", "current_sum")] + phaseCurrents + [
            Entry("PhV", "voltage_ln_average"),
            Entry("PhVphA", "voltage_l1", "1-0:32.7.0", phase: 1),
            Entry("PhVphB", "voltage_l2", "1-0:52.7.0", phase: 2),
            Entry("PhVphC", "voltage_l3", "1-0:72.7.0", phase: 3),
            Entry("PPV", "voltage_ll_average", phase: 2),
            // 201, 202, 204 and the float models call them PPVph…, 203 PhVph….
            Entry("PPVphAB", "voltage_l1_l2", phase: 2),
            Entry("PPVphBC", "voltage_l2_l3", phase: 3),
            Entry("PPVphCA", "voltage_l3_l1", phase: 3),
            Entry("PhVphAB", "voltage_l1_l2", phase: 2),
            Entry("PhVphBC", "voltage_l2_l3", phase: 3),
            Entry("PhVphCA", "voltage_l3_l1", phase: 3),
            Entry("Hz", "frequency", "1-0:14.7.0"),
            Entry("W", "power", "1-0:16.7.0"),
            Entry("WphA", "power_l1", "1-0:36.7.0", phase: 1),
            Entry("WphB", "power_l2", "1-0:56.7.0", phase: 2),
            Entry("WphC", "power_l3", "1-0:76.7.0", phase: 3),
            Entry("VA", "apparent_power", "1-0:9.7.0"),
            Entry("VAphA", "apparent_power_l1", "1-0:29.7.0", phase: 1),
            Entry("VAphB", "apparent_power_l2", "1-0:49.7.0", phase: 2),
            Entry("VAphC", "apparent_power_l3", "1-0:69.7.0", phase: 3),
            Entry("VAR", "reactive_power", "1-0:3.7.0"),
            Entry("VARphA", "reactive_power_l1", "1-0:23.7.0", phase: 1),
            Entry("VARphB", "reactive_power_l2", "1-0:43.7.0", phase: 2),
            Entry("VARphC", "reactive_power_l3", "1-0:63.7.0", phase: 3),
            Entry("PF", "power_factor_total", "1-0:13.7.0"),
            Entry("PFphA", "power_factor_l1", "1-0:33.7.0", phase: 1),
            Entry("PFphB", "power_factor_l2", "1-0:53.7.0", phase: 2),
            Entry("PFphC", "power_factor_l3", "1-0:73.7.0", phase: 3),
            Entry("TotWhExp", "energy_export", "1-0:2.8.0"),
            Entry("TotWhExpPhA", "energy_export_l1", "1-0:22.8.0", phase: 1),
            Entry("TotWhExpPhB", "energy_export_l2", "1-0:42.8.0", phase: 2),
            Entry("TotWhExpPhC", "energy_export_l3", "1-0:62.8.0", phase: 3),
            Entry("TotWhImp", "energy_import", "1-0:1.8.0"),
            Entry("TotWhImpPhA", "energy_import_l1", "1-0:21.8.0", phase: 1),
            Entry("TotWhImpPhB", "energy_import_l2", "1-0:41.8.0", phase: 2),
            Entry("TotWhImpPhC", "energy_import_l3", "1-0:61.8.0", phase: 3),
        ]

    private static let inverter: [Entry] =
        [Entry("A", "current_sum")] + phaseCurrents + [
            Entry("PPVphAB", "voltage_l1_l2", phase: 2),
            Entry("PPVphBC", "voltage_l2_l3", phase: 3),
            Entry("PPVphCA", "voltage_l3_l1", phase: 3),
            Entry("PhVphA", "voltage_l1", "1-0:32.7.0", phase: 1),
            Entry("PhVphB", "voltage_l2", "1-0:52.7.0", phase: 2),
            Entry("PhVphC", "voltage_l3", "1-0:72.7.0", phase: 3),
            // The inverter's output is our export: power with the sign turned.
            Entry("W", "power", "1-0:16.7.0", factor: -1),
            Entry("Hz", "frequency", "1-0:14.7.0"),
            Entry("VA", "apparent_power", "1-0:9.7.0"),
            Entry("VAr", "reactive_power", "1-0:3.7.0"),
            Entry("PF", "power_factor_total", "1-0:13.7.0"),
            Entry("WH", "energy_export", "1-0:2.8.0"),
        ]

    /// Our unit for a SunSpec unit, and the multiplier into it (`Pct` power factors become
    /// −1…1).
    static func unit(for units: String?) -> (unit: String, factor: Double) {
        switch units {
        case "Pct"?: ("", 0.01)
        case "PF"?: ("", 1)
        case let units?: (units, 1)
        case nil: ("", 1)
        }
    }
}

extension SunSpecModelDefinition {
    /// The points we read, as measurands of a model whose `ID` register is at `address`:
    /// int points with `scaleRegister` at their scale-factor point, floats as they are, each
    /// with its type's "not implemented" value as `nan`. `length` (the model's `L` as the
    /// device states it) leaves out points beyond it; `phases` leaves out points of the
    /// phases a device does not have.
    public func measurands(at address: UInt16, length: Int? = nil, phases: Int = 3) -> [Measurand] {
        let available = min(length ?? self.length, self.length) + 2
        var measurands: [Measurand] = []
        var taken: Set<String> = []
        for entry in SunSpecVocabulary.entries(for: Self.kind(of: id)) {
            guard entry.phase.map({ $0 <= phases }) ?? true, !taken.contains(entry.measurand),
                let point = self.point(named: entry.point), let type = point.type.dataType,
                point.offset + point.size <= available, Int(address) + point.offset + point.size <= 0x10000
            else { continue }
            var scaleRegister: UInt16?
            if let name = point.scaleFactor {
                guard let sf = self.point(named: name), sf.offset < available, Int(address) + sf.offset <= 0xFFFF
                else { continue }
                scaleRegister = UInt16(Int(address) + sf.offset)
            }
            let (unit, factor) = SunSpecVocabulary.unit(for: point.units)
            taken.insert(entry.measurand)
            measurands.append(
                Measurand(
                    name: entry.measurand,
                    obis: entry.obis,
                    table: .holdingRegisters,
                    address: UInt16(Int(address) + point.offset),
                    type: type,
                    scale: factor * entry.factor,
                    unit: unit,
                    description: "SunSpec \(id) \(point.name)",
                    nan: point.type.notImplemented,
                    scaleRegister: scaleRegister
                )
            )
        }
        return measurands
    }
}

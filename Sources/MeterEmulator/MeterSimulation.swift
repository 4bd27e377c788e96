import Foundation
import ModbusBridge

/// One emulated meter over simulated time: integrates energy second by second from the
/// model's power, applies anomalies, and renders the profile's measurands.
///
/// Energy counters are the exact sum of each simulated second's power, so they never go
/// backwards (unless a rollback anomaly is asked for) and equal the integral of power to
/// the resolution of the profile's registers. Everything is a function of the seed and
/// the simulated clock, so two runs with the same inputs serve the same values.
package struct MeterSimulation: Sendable {
    package let profile: MeterProfile
    package let model: MeterModel
    package let anomalies: [InjectedAnomaly]
    package let startSecond: Int64

    private(set) var second: Int64
    private(set) var state: ElectricalState
    /// Energy counters in Wh / varh / VAh / Ah·3600 (As), per phase where it applies.
    private(set) var importWh: [Double]
    private(set) var exportWh: [Double]
    private(set) var reactiveImportVarh: Double = 0
    private(set) var reactiveExportVarh: Double = 0
    private(set) var apparentVAh: Double = 0
    private(set) var chargeAh: Double = 0
    private(set) var demandMax: Double = 0
    private var frozen: [String: Double]?
    private var rolledBack = false

    package init(
        profile: MeterProfile,
        role: EmulatedRole,
        seed: UInt64,
        start: Date,
        anomalies: [InjectedAnomaly] = [],
        ratedPower: Double? = nil
    ) {
        let phases = profile.measurand(named: "voltage_l2") == nil ? 1 : 3
        self.profile = profile
        self.model = MeterModel(role: role, phases: phases, seed: seed, ratedPower: ratedPower)
        self.anomalies = anomalies
        self.startSecond = Int64(start.timeIntervalSince1970.rounded(.down))
        self.second = startSecond
        self.state = model.state(at: startSecond)
        // Meters arrive with a history: start the counters somewhere plausible.
        let noise = Noise(seed: seed)
        let history = 1_000_000 + 4_000_000 * (noise.value(99, 0) + 1) / 2
        self.importWh = Array(repeating: (role.isProducer ? 0.02 : 1) * history / Double(phases), count: phases)
        self.exportWh = Array(repeating: (role.isProducer ? 1 : 0.01) * history / Double(phases), count: phases)
    }

    /// Advances to simulated time `date`, integrating every whole second on the way.
    package mutating func advance(to date: Date) {
        let target = Int64(date.timeIntervalSince1970.rounded(.down))
        while second < target {
            integrate(model.state(at: second, sag: sag(at: second)))
            second += 1
            if !rolledBack, let rollback = anomaly(.rollback), second >= startSecond + rollback.offset {
                rolledBack = true
                importWh = importWh.map { max(0, $0 - max(1000 / Double(model.phases), $0 * 0.1)) }
            }
        }
        state = model.state(at: second, sag: sag(at: second))
        if let stuck = anomaly(.stuck), second >= startSecond + stuck.offset, frozen == nil {
            frozen = renderLive()
        }
    }

    /// Total import energy in Wh.
    package var totalImportWh: Double { importWh.reduce(0, +) }
    /// Total export energy in Wh.
    package var totalExportWh: Double { exportWh.reduce(0, +) }

    /// The profile's measurands (by name) in their units, for the register bank.
    /// Measurands this emulator has no quantity for are left out (they read as zero).
    package func measurandValues() -> [String: Double] {
        frozen ?? renderLive()
    }

    private func renderLive() -> [String: Double] {
        var values: [String: Double] = [:]
        for measurand in profile.measurands {
            if let value = quantity(named: measurand.name, unit: measurand.unit) {
                values[measurand.name] = value
            }
        }
        return values
    }

    private mutating func integrate(_ state: ElectricalState) {
        for phase in 0..<model.phases {
            let power = state.power[phase]
            if power > 0 { importWh[phase] += power / 3600 } else { exportWh[phase] += -power / 3600 }
        }
        let reactive = state.reactivePower.reduce(0, +)
        if state.totalPower >= 0 {
            reactiveImportVarh += reactive / 3600
        } else {
            reactiveExportVarh += reactive / 3600
        }
        apparentVAh += state.apparentPower.reduce(0, +) / 3600
        chargeAh += state.current.reduce(0, +) / 3600
        demandMax = max(demandMax, state.totalPower)
    }

    private func anomaly(_ kind: InjectedAnomaly.Kind) -> InjectedAnomaly? {
        anomalies.first { $0.kind == kind }
    }

    private func sag(at second: Int64) -> Double {
        guard let sag = anomaly(.sag) else { return 1 }
        let begins = startSecond + sag.offset
        return (begins..<begins + 120).contains(second) ? 0.7 : 1
    }

    /// The value of a measurand this emulator understands, converted to `unit`.
    private func quantity(named name: String, unit: String) -> Double? {
        let phaseNames = ["l1": 0, "l2": 1, "l3": 2]
        let parts = name.split(separator: "_")
        let phase = parts.last.flatMap { phaseNames[String($0)] }
        let base = phase == nil ? name : parts.dropLast().joined(separator: "_")
        let index = phase ?? 0
        guard index < model.phases else { return nil }
        let s = state
        if let lineToLine = lineToLineVoltage(name) { return lineToLine }
        let totalCurrent = s.current.reduce(0, +)
        let value: Double? =
            switch base {
            case "voltage": s.voltage[index]
            case "current": s.current[index]
            case "power": phase == nil ? s.totalPower : s.power[index]
            case "power_total": s.totalPower
            case "apparent_power": phase == nil ? s.apparentPower.reduce(0, +) : s.apparentPower[index]
            case "apparent_power_total": s.apparentPower.reduce(0, +)
            case "reactive_power": phase == nil ? s.reactivePower.reduce(0, +) : s.reactivePower[index]
            case "reactive_power_total": s.reactivePower.reduce(0, +)
            case "power_factor": phase == nil ? s.powerFactor[0] : s.powerFactor[index]
            case "power_factor_total": s.powerFactor.reduce(0, +) / Double(model.phases)
            case "phase_angle": acos(phase == nil ? s.powerFactor[0] : s.powerFactor[index]) * 180 / .pi
            case "phase_angle_total": acos(s.powerFactor.reduce(0, +) / Double(model.phases)) * 180 / .pi
            case "frequency": s.frequency
            case "voltage_ln_average": s.voltage.reduce(0, +) / Double(model.phases)
            case "current_average": totalCurrent / Double(model.phases)
            case "current_sum": totalCurrent
            case "current_neutral": model.phases == 3 ? neutralCurrent(s.current) : nil
            case "energy_import": phase == nil ? totalImportWh : importWh[index]
            case "energy_export": phase == nil ? totalExportWh : exportWh[index]
            case "energy_total": totalImportWh + totalExportWh
            case "reactive_energy_import": reactiveImportVarh
            case "reactive_energy_export": reactiveExportVarh
            case "reactive_energy_total": reactiveImportVarh + reactiveExportVarh
            case "apparent_energy": apparentVAh
            case "charge": chargeAh
            case "power_demand": s.totalPower
            case "power_demand_max": demandMax
            case "voltage_thd": 1.5 + 0.5 * model.noise.smooth(40 + UInt64(index), second: second, period: 600)
            case "current_thd": 8 + 3 * model.noise.smooth(50 + UInt64(index), second: second, period: 600)
            case "tamper":
                anomaly(.tamper).map { second >= startSecond + $0.offset ? 1 : 0 } ?? 0
            default: nil
            }
        guard let value else { return nil }
        return convert(value, toUnit: unit)
    }

    /// `voltage_l1_l2` and friends, and their average, from the phase voltages 120° apart.
    private func lineToLineVoltage(_ name: String) -> Double? {
        guard model.phases == 3 else { return nil }
        let v = state.voltage
        func between(_ a: Int, _ b: Int) -> Double { (v[a] * v[a] + v[b] * v[b] + v[a] * v[b]).squareRoot() }
        switch name {
        case "voltage_l1_l2": return between(0, 1)
        case "voltage_l2_l3": return between(1, 2)
        case "voltage_l3_l1": return between(2, 0)
        case "voltage_ll_average": return (between(0, 1) + between(1, 2) + between(2, 0)) / 3
        default: return nil
        }
    }

    /// Energies are kept in Wh, varh and VAh; profiles may want the kilo units.
    private func convert(_ value: Double, toUnit unit: String) -> Double {
        switch unit {
        case "kWh", "kvarh", "kVAh", "kW", "kvar", "kVA": value / 1000
        default: value
        }
    }

    /// Vector sum of three phase currents 120° apart (unity power factor approximation).
    private func neutralCurrent(_ currents: [Double]) -> Double {
        let x = currents[0] - 0.5 * currents[1] - 0.5 * currents[2]
        let y = (currents[1] - currents[2]) * 3.0.squareRoot() / 2
        return (x * x + y * y).squareRoot()
    }
}

import Foundation
import ModbusBridge

/// A running emulated meter: its simulation and the register bank it is served from.
package final class EmulatedMeter: @unchecked Sendable {
    package let config: FleetConfig.Meter
    package let bank: RegisterBank
    private let lock = NSLock()
    private var simulation: MeterSimulation

    package convenience init(config: FleetConfig.Meter, profile: MeterProfile, start: Date) throws {
        try self.init(config: config, map: EmulatedRegisterMap(profile: profile), start: start)
    }

    package init(config: FleetConfig.Meter, map: EmulatedRegisterMap, start: Date) throws {
        self.config = config
        let profile = map.profile
        // Every register a profile names is a measurement or a counter: clients only read
        // them, as on the meter; only the simulation below writes.
        self.bank = try RegisterBank(layout: map.layout, access: .readOnly(functions: profile.functions))
        self.simulation = MeterSimulation(
            profile: profile,
            role: config.role,
            seed: config.seed,
            start: start,
            anomalies: config.anomalies,
            ratedPower: config.ratedPower
        )
        try bank.apply(map.fixed)
        try publish()
    }

    /// Advances the simulation to `date` and writes the new values into the bank at once.
    /// Values change once per simulated second: within the second it has, nothing is done
    /// (a thousand meters ticked ten times a second would otherwise re-encode every register
    /// ten times for each change).
    package func update(to date: Date) throws {
        try lock.withLock {
            let before = simulation.second
            simulation.advance(to: date)
            guard simulation.second != before else { return }
            try publish()
        }
    }

    private func publish() throws {
        let values = simulation.measurandValues()
        let profile = simulation.profile
        try bank.apply(profile.unavailableWrites(except: Set(values.keys)) + profile.registerWrites(for: values))
    }
}

import Foundation
import Logging
import TestSupport

@testable import ModbusBridge

/// A register bank for `profile` filled with `values`, encoded as the profile says.
func bank(for profile: MeterProfile, values: [String: Double]) throws -> RegisterBank {
    let bank = try RegisterBank(layout: .covering(profile))
    try bank.apply(profile.registerWrites(for: values))
    return bank
}

/// Plausible SDM630 values.
let sdm630Values: [String: Double] = [
    "voltage_l1": 230.1, "voltage_l2": 229.8, "voltage_l3": 231.2,
    "current_l1": 4.25, "current_l2": 1.5, "current_l3": 0.75,
    "power_l1": 975, "power_l2": 340, "power_l3": 170, "power_total": 1485,
    "frequency": 50.02, "energy_import": 1234.5, "energy_export": 12.25,
]

/// An SDM630 served on a fresh pseudo-terminal.
struct ServedLine {
    let terminal: PseudoTerminal
    let server: ModbusRTUServer

    init(
        units: [UInt8: RegisterBank],
        settings: SerialSettings = SerialSettings(),
        options: ServerOptions = ServerOptions(logger: quietLogger)
    ) throws {
        terminal = try PseudoTerminal()
        server = try ModbusRTUServer(pseudoTerminal: terminal, settings: settings, units: units, options: options)
        try server.start()
    }

    func client(retry: RetryPolicy = .none, timeout: Duration = .milliseconds(300)) throws -> ModbusClient {
        try ModbusClient(
            endpoint: .rtu(device: terminal.path, settings: server.settings),
            options: ClientOptions(responseTimeout: timeout, retry: retry),
            logger: quietLogger
        )
    }
}

func expectClose(_ value: Double?, _ expected: Double, tolerance: Double = 1e-3) -> Bool {
    guard let value else { return false }
    return abs(value - expected) <= tolerance * max(1, abs(expected))
}

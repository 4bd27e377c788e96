import Foundation
import LedgerLite
import ModbusBridge
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterEmulator

/// Issue 15, point 2: the emulator serves every shipped profile with the physics model, and
/// the planner reads each back through libmodbus, as `meter-agent run` would.
@Suite("Every shipped profile, emulated and read back")
struct EveryProfileTests {
    static let names = testLibrary.profiles.keys.sorted()

    /// Every profile on one Modbus TCP bus, unit 1, 2, … in name order.
    static func bus() throws -> RunningTCPBus {
        try RunningTCPBus(
            meters: names.enumerated().map { index, name in
                meter(name, unit: UInt8(index + 1), role: index % 2 == 0 ? .consumer : .pv, seed: UInt64(index + 1))
            }
        )
    }

    @Test("each profile's values read back plausible, with the planner's requests and no more")
    func everyProfile() async throws {
        #expect(Self.names.count >= 3)
        let running = try Self.bus()
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: running.port),
            options: ClientOptions(responseTimeout: .seconds(2)),
            logger: silentLogger
        )
        for (index, name) in Self.names.enumerated() {
            let profile = try testLibrary.profile(named: name)
            let reader = MeterReader(client: client, profile: profile, unit: UInt8(index + 1))
            let snapshot = try await reader.read()
            #expect(snapshot.requests == reader.plan.requests.count, "\(name): one request per planned read")
            #expect(snapshot.measurements.count == profile.measurands.count, "\(name)")
            for phase in ["voltage", "voltage_l1", "voltage_l2", "voltage_l3"] {
                guard let value = snapshot.value(phase), profile.measurand(named: phase)?.unit == "V" else { continue }
                #expect((207...253).contains(value), "\(name).\(phase) = \(value)")
            }
            if let frequency = snapshot.value("frequency") {
                #expect((49.9...50.1).contains(frequency), "\(name).frequency = \(frequency)")
            }
            let energy = try #require(snapshot.value("energy_import"), "\(name) has energy_import")
            #expect(energy.isFinite && energy >= 0, "\(name).energy_import = \(energy)")

            // What the agent signs: at least the import counter, in Wh.
            let reading = try ReadingFactory(profile: profile).reading(
                from: snapshot,
                meter: TestKeys.meter.id,
                gateway: GatewayID(high: 7, low: 7),
                sequence: 1
            )
            #expect(reading[.energyImportWh] != nil, "\(name): the reading carries energy_import_wh")
            // The counter's resolution, from the profile, in whole Wh (version 3).
            if let step = profile.measurands.first(where: { $0.obis == "1-0:1.8.0" })?.resolution {
                let unit: Double = profile.measurands.first { $0.obis == "1-0:1.8.0" }?.unit == "kWh" ? 1000 : 1
                #expect(reading[.energyImportResolutionWh] == Int64((step * unit).rounded(.up)), "\(name)")
                #expect(reading.version == 3, "\(name)")
            }
        }
    }
}

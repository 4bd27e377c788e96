import Foundation
import ModbusBridge
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

@Suite("Meter model")
struct MeterModelTests {
    let sdm630 = try! testLibrary.profile(named: "sdm630")
    let noon = Date(timeIntervalSince1970: 1_782_043_200)  // 2026-06-21 12:00 UTC

    @Test("energy counters never go backwards and equal the integral of power", arguments: EmulatedRole.allCases)
    func countersIntegratePower(role: EmulatedRole) {
        var simulation = MeterSimulation(profile: sdm630, role: role, seed: 9, start: noon)
        let model = MeterModel(role: role, phases: 3, seed: 9)
        var expectedImport = simulation.totalImportWh
        var expectedExport = simulation.totalExportWh
        var previous = (simulation.totalImportWh, simulation.totalExportWh)
        let start = Int64(noon.timeIntervalSince1970)
        for step in 1...(12 * 60) {  // twelve hours, advanced a minute at a time
            for second in (start + Int64(step - 1) * 60)..<(start + Int64(step) * 60) {
                for power in model.state(at: second).power {
                    if power > 0 { expectedImport += power / 3600 } else { expectedExport += -power / 3600 }
                }
            }
            simulation.advance(to: noon.addingTimeInterval(Double(step) * 60))
            #expect(simulation.totalImportWh >= previous.0)
            #expect(simulation.totalExportWh >= previous.1)
            previous = (simulation.totalImportWh, simulation.totalExportWh)
        }
        #expect(abs(simulation.totalImportWh - expectedImport) < 1e-6)
        #expect(abs(simulation.totalExportWh - expectedExport) < 1e-6)
    }

    @Test("voltages stay within EN 50160 and frequency near 50 Hz over a day", arguments: EmulatedRole.allCases)
    func qualityLimits(role: EmulatedRole) {
        let model = MeterModel(role: role, phases: 3, seed: 4)
        for second in stride(from: Int64(0), to: 86400, by: 97) {
            let state = model.state(at: 1_782_000_000 + second)
            for voltage in state.voltage { #expect((207...253).contains(voltage)) }
            #expect((49.9...50.1).contains(state.frequency))
        }
    }

    @Test("consumers import, producers export by day")
    func roles() {
        let noonSecond = Int64(noon.timeIntervalSince1970)
        #expect(MeterModel(role: .consumer, phases: 1, seed: 1).netPower(at: noonSecond) > 0)
        #expect(MeterModel(role: .pv, phases: 1, seed: 1).netPower(at: noonSecond) < -1000)
        #expect(MeterModel(role: .pv, phases: 1, seed: 1).netPower(at: noonSecond + 12 * 3600) > 0)  // midnight standby
        #expect(MeterModel(role: .battery, phases: 1, seed: 1).netPower(at: noonSecond + 8 * 3600 + 1800) < 0)  // 20:30
    }

    @Test("same seed and clock, same values; another seed, other values")
    func deterministic() {
        var first = MeterSimulation(profile: sdm630, role: .consumer, seed: 5, start: noon)
        var second = MeterSimulation(profile: sdm630, role: .consumer, seed: 5, start: noon)
        var other = MeterSimulation(profile: sdm630, role: .consumer, seed: 6, start: noon)
        let later = noon.addingTimeInterval(3600)
        first.advance(to: later)
        second.advance(to: later)
        other.advance(to: later)
        #expect(first.measurandValues() == second.measurandValues())
        #expect(first.measurandValues() != other.measurandValues())
    }

    @Test("anomalies: rollback, sag, stuck and tamper appear when asked")
    func anomalies() throws {
        var rollback = MeterSimulation(
            profile: sdm630,
            role: .consumer,
            seed: 1,
            start: noon,
            anomalies: [InjectedAnomaly(kind: .rollback, offset: 60)]
        )
        rollback.advance(to: noon.addingTimeInterval(59))
        let before = rollback.totalImportWh
        rollback.advance(to: noon.addingTimeInterval(61))
        #expect(rollback.totalImportWh < before - 900)

        var sag = MeterSimulation(
            profile: sdm630,
            role: .consumer,
            seed: 1,
            start: noon,
            anomalies: [InjectedAnomaly(kind: .sag, offset: 10)]
        )
        sag.advance(to: noon.addingTimeInterval(20))
        #expect((150...180).contains(sag.measurandValues()["voltage_l1"] ?? 0))

        var stuck = MeterSimulation(
            profile: sdm630,
            role: .consumer,
            seed: 1,
            start: noon,
            anomalies: [InjectedAnomaly(kind: .stuck, offset: 10)]
        )
        stuck.advance(to: noon.addingTimeInterval(10))
        let frozen = stuck.measurandValues()
        stuck.advance(to: noon.addingTimeInterval(900))
        #expect(stuck.measurandValues() == frozen)

        let withTamper = try ProfileLoader.parse(
            """
            name: tamper-meter
            manufacturer: Test
            model: T
            measurands:
              - { name: energy_import, table: input, address: 0, type: uint32, unit: Wh }
              - { name: tamper, table: holding, address: 0, type: uint16, unit: "" }
            """,
            file: "tamper.yaml"
        )
        var tamper = MeterSimulation(
            profile: withTamper,
            role: .consumer,
            seed: 1,
            start: noon,
            anomalies: [InjectedAnomaly(kind: .tamper, offset: 30)]
        )
        tamper.advance(to: noon.addingTimeInterval(29))
        #expect(tamper.measurandValues()["tamper"] == 0)
        tamper.advance(to: noon.addingTimeInterval(30))
        #expect(tamper.measurandValues()["tamper"] == 1)
    }

    @Test("anomaly flags parse KIND and KIND@OFFSET")
    func anomalyParsing() {
        #expect(InjectedAnomaly(argument: "rollback@10m") == InjectedAnomaly(kind: .rollback, offset: 600))
        #expect(InjectedAnomaly(argument: "sag") == InjectedAnomaly(kind: .sag, offset: 0))
        #expect(InjectedAnomaly(argument: "melt@1s") == nil)
        #expect(InjectedAnomaly(argument: "stuck@soon") == nil)
    }
}

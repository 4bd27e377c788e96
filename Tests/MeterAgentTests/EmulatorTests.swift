import Foundation
import Glibc
import ModbusBridge
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

@Suite("Emulated meters over a pseudo-terminal")
struct EmulatorTests {
    let sdm630 = try! testLibrary.profile(named: "sdm630")

    @Test("the same seed and clock give identical `read` output")
    func identicalOutput() async throws {
        var tables: [String] = []
        for _ in 0..<2 {
            let running = try RunningBus(meters: [meter("sdm630", unit: 1, seed: 42)])
            let snapshot = try await MeterReader(client: try running.client(), profile: sdm630, unit: 1).read()
            let table = SnapshotPrinter(json: false, endpoint: .rtu(device: "bus", settings: SerialSettings())).table(
                snapshot
            )
            // The first line carries the wall-clock time of the read, the last the bus time.
            tables.append(table.split(separator: "\n").dropFirst().dropLast().joined(separator: "\n"))
        }
        #expect(tables[0] == tables[1])
        #expect(tables[0].contains("voltage_l1"))
    }

    @Test("several meters of different models share one bus")
    func severalMeters() async throws {
        let running = try RunningBus(meters: [
            meter("sdm630", unit: 1), meter("sdm120", unit: 2, role: .pv, seed: 2), meter("em24", unit: 3, seed: 3),
        ])
        let client = try running.client()
        let three = try await MeterReader(client: client, profile: sdm630, unit: 1).read()
        let pv = try await MeterReader(client: client, profile: testLibrary.profile(named: "sdm120"), unit: 2).read()
        let em24 = try await MeterReader(client: client, profile: testLibrary.profile(named: "em24"), unit: 3).read()
        #expect((207...253).contains(three.value("voltage_l2") ?? 0))
        #expect((pv.value("power") ?? 0) < 0, "a PV meter at noon exports")
        #expect((207...253).contains(em24.value("voltage_l1") ?? 0), "integer path decodes volts")
        #expect((49.9...50.1).contains(em24.value("frequency") ?? 0))
    }

    @Test("counters read over the wire rise with time at a plausible rate")
    func countersOverTheWire() async throws {
        let linkPath = FileManager.default.temporaryDirectory.appendingPathComponent("gl-speed-\(UUID().uuidString)")
            .path
        let fleet = FleetConfig(
            start: Date(timeIntervalSince1970: 1_782_043_200),
            speed: 3600,
            buses: [
                FleetConfig.Bus(
                    transport: .ptyLink(linkPath),
                    baud: nil,
                    parity: nil,
                    wireTiming: false,
                    faults: .none,
                    meters: [meter("sdm630", unit: 1)]
                )
            ]
        )
        let bus = try Emulator(fleet: fleet, library: testLibrary, logger: silentLogger).makeBuses()[0]
        try bus.server.start()
        defer { bus.server.stop() }
        let clock = SimulatedClock(start: fleet.start, speed: fleet.speed)
        let client = try ModbusClient(
            endpoint: .rtu(device: linkPath, settings: SerialSettings()),
            logger: silentLogger
        )
        let reader = MeterReader(client: client, profile: sdm630, unit: 1, measurands: ["energy_import"])
        var readings: [(Date, Double)] = []
        for _ in 0..<3 {
            let now = clock.now
            try bus.meters[0].update(to: now)
            readings.append((now, try await reader.read().value("energy_import") ?? -1))
            try await Task.sleep(for: .milliseconds(300))
        }
        for (earlier, later) in zip(readings, readings.dropFirst()) {
            #expect(later.1 > earlier.1)
            let hours = later.0.timeIntervalSince(earlier.0) / 3600
            let kWh = later.1 - earlier.1
            // A household of 6 kW peak cannot draw more than 6 kW·h per hour (plus float32 rounding).
            #expect(kWh <= 6 * hours * 1.5 + 0.01, "\(kWh) kWh in \(hours) h")
        }
    }

    @Test("mbpoll reads the emulated SDM630: float32 voltages near 230 V")
    func mbpoll() throws {
        let running = try RunningBus(meters: [meter("sdm630", unit: 1)])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mbpoll")
        process.arguments = [
            "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-t", "3:float", "-B", "-0",
            "-r", "0", "-c", "3", "-1", "-o", "1", running.linkPath,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        let voltages = output.split(separator: "\n").filter { $0.hasPrefix("[") }
            .compactMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
        #expect(voltages.count == 3, "\(output)")
        for voltage in voltages { #expect((207...253).contains(voltage)) }
    }

    @Test("injected faults are retried and recovered from")
    func faultsRecovered() async throws {
        let running = try RunningBus(
            meters: [meter("sdm630", unit: 1)],
            faults: FaultInjection(rate: 0.3, faults: [.noReply, .corruptFrame], seed: 3)
        )
        let client = try running.client(attempts: 8)
        let reader = MeterReader(client: client, profile: sdm630, unit: 1)
        for _ in 0..<8 {
            #expect((207...253).contains(try await reader.read().value("voltage_l1") ?? 0))
        }
        #expect(await client.statistics.retries > 0)
        #expect(running.bus.server.statistics.faultsInjected > 0)
    }
}

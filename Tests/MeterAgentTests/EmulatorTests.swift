import Foundation
import Glibc
import ModbusBridge
import OperatorKit
import TestSupport
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
        let linkPath = makeTempDir(prefix: "gl-speed")
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
        let (status, output) = try runMbpoll([
            "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-t", "3:float", "-B", "-0",
            "-r", "0", "-c", "3", "-1", "-o", "1", running.linkPath,
        ])
        #expect(status == 0, "\(output)")
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

@Suite("Emulated meters against hostile clients")
struct EmulatorHostileClientTests {
    let em24 = try! testLibrary.profile(named: "em24")

    @Test("mbpoll's write to an emulated EM24's energy counter gets exception 02; the counter is unchanged")
    func writeRefused() throws {
        let running = try RunningTCPBus(meters: [meter("em24", unit: 1)])
        let energy = try #require(em24.measurand(named: "energy_import"))
        // 32-bit integer, low word first (mbpoll's default order, the EM24's CDAB).
        let read =
            ["-m", "tcp", "-p", String(running.port), "-a", "1", "-0", "-o", "1", "-t", "4:int"]
            + ["-r", String(energy.address), "-1", "127.0.0.1"]
        let before = try runMbpoll(read)
        #expect(before.status == 0, "\(before.output)")
        let counter = try #require(mbpollValues(before.output)[Int(energy.address)])
        #expect(Int(counter) != nil, "\(before.output)")
        // One register, function 06: the EM24 implements it, and refuses the address.
        let write = try runMbpoll(
            ["-m", "tcp", "-p", String(running.port), "-a", "1", "-0", "-o", "1", "-t", "4"]
                + ["-r", String(energy.address), "127.0.0.1", "0"]
        )
        #expect(write.status != 0)
        #expect(write.output.contains("Illegal data address"), "\(write.output)")
        // Two registers, function 16: not implemented by the EM24.
        let writeBoth = try runMbpoll(
            ["-m", "tcp", "-p", String(running.port), "-a", "1", "-0", "-o", "1", "-t", "4:int"]
                + ["-r", String(energy.address), "127.0.0.1", "0"]
        )
        #expect(writeBoth.status != 0)
        #expect(writeBoth.output.contains("Illegal function"), "\(writeBoth.output)")
        let after = try runMbpoll(read)
        #expect(mbpollValues(after.output)[Int(energy.address)] == counter, "\(after.output)")
        #expect(running.bus.server.statistics.refused == 2)
    }

    @Test("a silent client of an emulated bus is disconnected, and the drop is logged at info")
    func idleDropped() async throws {
        let capture = LogCapture()
        let running = try RunningTCPBus(
            meters: [meter("sdm630", unit: 1)],
            idleTimeout: .milliseconds(200),
            logger: capture.logger
        )
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(running.port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        try await waitUntil("the silent client is disconnected") {
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        }
        #expect(running.bus.server.statistics.idleConnectionsClosed == 1)
        try await waitUntil("the drop is logged") {
            capture.all.contains {
                $0.hasPrefix("info closed idle connection from 127.0.0.1:") && $0.contains("reason=idle")
            }
        }
    }

    @Test("a burst of drops of one kind is logged once, each kind at least once")
    func dropsRateLimited() {
        let capture = LogCapture()
        let drops = ConnectionDropLog(logger: capture.logger, interval: .seconds(3600))
        for port in 40000..<40005 {
            drops.record(DroppedConnection(reason: .idle, peer: "127.0.0.1:\(port)"))
        }
        drops.record(DroppedConnection(reason: .stalledFrame, peer: "127.0.0.1:40010", pendingBytes: 4))
        drops.record(DroppedConnection(reason: .tooManyClients, peer: "127.0.0.1:40011"))
        #expect(capture.all.count == 3, "\(capture.all)")
        #expect(capture.all.filter { $0.contains("reason=idle") }.count == 1)
        #expect(capture.all.contains { $0.hasPrefix("info ") && $0.contains("4 bytes of a request, then silence") })
        #expect(capture.all.contains { $0.hasPrefix("warning turned away 127.0.0.1:40011") })
    }

    @Test("the idle timeout: default 60 s, --idle-timeout, 0s for never, TCP only")
    func idleTimeoutFlag() throws {
        let base = ["--profile", "sdm630", "--unit", "1"]
        let plain = try EmulateCommand.parse(base + ["--tcp", "127.0.0.1:0"])
        #expect(try plain.fleetConfig().buses[0].idleTimeout == .seconds(60))
        let short = try EmulateCommand.parse(base + ["--tcp", "127.0.0.1:0", "--idle-timeout", "250ms"])
        #expect(try short.fleetConfig().buses[0].idleTimeout == .milliseconds(250))
        let never = try EmulateCommand.parse(base + ["--tcp", "127.0.0.1:0", "--idle-timeout", "0s"])
        #expect(try never.fleetConfig().buses[0].idleTimeout == nil)
        #expect(throws: (any Error).self) {
            _ = try EmulateCommand.parse(base + ["--pty-link", "/tmp/x", "--idle-timeout", "5s"])
        }
        #expect(throws: (any Error).self) {
            _ = try EmulateCommand.parse(base + ["--tcp", "127.0.0.1:0", "--idle-timeout", "soon"])
        }
    }

    @Test("a fleet file sets a TCP bus's idle-timeout, and refuses one on a serial bus")
    func idleTimeoutInFleetFile() throws {
        let directory = try TempDir(prefix: "gl-fleet")
        defer { directory.cleanup() }
        func resolve(_ yaml: String) throws -> FleetConfig {
            let path = directory.file("fleet.yaml")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try FleetFile.load(path: path)
        }
        let fleet = try resolve(
            """
            buses:
              - { tcp: "127.0.0.1:0", idle-timeout: 2m, meters: [{ profile: em24, unit: 1 }] }
              - { tcp: "127.0.0.1:0", idle-timeout: 0s, meters: [{ profile: em24, unit: 1 }] }
              - { tcp: "127.0.0.1:0", meters: [{ profile: em24, unit: 1 }] }
            """
        )
        #expect(fleet.buses.map(\.idleTimeout) == [.seconds(120), nil, .seconds(60)])
        let serial = #expect(throws: ConfigFileError.self) {
            try resolve("buses: [{ pty-link: /tmp/bus, idle-timeout: 5s, meters: [{ profile: em24, unit: 1 }] }]")
        }
        #expect(serial?.location == "\(directory.file("fleet.yaml")): buses[0].idle-timeout")
        let garbled = #expect(throws: ConfigFileError.self) {
            try resolve("buses: [{ tcp: '127.0.0.1:0', idle-timeout: soon, meters: [{ profile: em24, unit: 1 }] }]")
        }
        #expect(garbled?.description.contains("'soon' is not a duration") == true)
    }
}

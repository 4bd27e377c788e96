import Foundation
import Logging
import ModbusBridge
import TestSupport

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

let testLibrary: ProfileLibrary = {
    do { return try ProfileLibrary.locate() } catch { fatalError("\(error)") }
}()

let silentLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// An emulated bus on a fresh pseudo-terminal, served until the value is released.
final class RunningBus {
    let bus: EmulatedBus
    let linkPath: String

    init(
        meters: [FleetConfig.Meter],
        start: Date = Date(timeIntervalSince1970: 1_782_043_200),  // 2026-06-21 12:00 UTC
        faults: FaultInjection = .none
    ) throws {
        linkPath = FileManager.default.temporaryDirectory.appendingPathComponent("gl-test-\(UUID().uuidString)").path
        let fleet = FleetConfig(
            start: start,
            speed: 0,
            buses: [
                FleetConfig.Bus(
                    transport: .ptyLink(linkPath),
                    baud: nil,
                    parity: nil,
                    wireTiming: false,
                    faults: faults,
                    meters: meters
                )
            ]
        )
        bus = try Emulator(fleet: fleet, library: testLibrary, logger: silentLogger).makeBuses()[0]
        try bus.server.start()
    }

    deinit {
        bus.server.stop()
        bus.terminal?.removeLinks()
    }

    func client(attempts: Int = 1) throws -> ModbusClient {
        try ModbusClient(
            endpoint: .rtu(device: linkPath, settings: SerialSettings()),
            options: ClientOptions(
                responseTimeout: .milliseconds(150),
                retry: RetryPolicy(maxAttempts: attempts, initialBackoff: .milliseconds(5))
            ),
            logger: silentLogger
        )
    }
}

func meter(
    _ profile: String,
    unit: UInt8,
    role: EmulatedRole = .consumer,
    seed: UInt64 = 1,
    anomalies: [InjectedAnomaly] = []
) -> FleetConfig.Meter {
    FleetConfig.Meter(profile: profile, unit: unit, role: role, seed: seed, ratedPower: nil, anomalies: anomalies)
}

/// An emulated bus served over Modbus TCP on a free loopback port, until the value is released.
final class RunningTCPBus {
    let bus: EmulatedBus
    let port: Int

    init(
        meters: [FleetConfig.Meter],
        idleTimeout: Duration? = ServerOptions.defaultIdleTimeout,
        logger: Logger = silentLogger,
        start: Date = Date(timeIntervalSince1970: 1_782_043_200)  // 2026-06-21 12:00 UTC
    ) throws {
        let fleet = FleetConfig(
            start: start,
            speed: 0,
            buses: [
                FleetConfig.Bus(
                    transport: .tcp(host: "127.0.0.1", port: 0),
                    wireTiming: false,
                    faults: .none,
                    idleTimeout: idleTimeout,
                    meters: meters
                )
            ]
        )
        bus = try Emulator(fleet: fleet, library: testLibrary, logger: logger).makeBuses()[0]
        guard let server = bus.server as? ModbusTCPServer else { throw NotServedOverTCP() }
        port = server.port
        try bus.server.start()
    }

    deinit {
        bus.server.stop()
    }
}

struct NotServedOverTCP: Error, CustomStringConvertible {
    var description: String { "a TCP bus was not given a Modbus TCP server" }
}

/// Runs mbpoll to its end: its exit status and everything it printed.
func runMbpoll(_ arguments: [String]) throws -> (status: Int32, output: String) {
    try SpawnedProcess.run("/usr/bin/mbpoll", arguments)
}

/// The `[ref]: value` lines mbpoll prints, by reference.
func mbpollValues(_ output: String) -> [Int: String] {
    var values: [Int: String] = [:]
    for line in output.split(separator: "\n") where line.hasPrefix("[") {
        let parts = line.dropFirst().split(separator: "]", maxSplits: 1)
        guard parts.count == 2, let reference = Int(parts[0]) else { continue }
        values[reference] = parts[1].drop { $0 == ":" || $0 == " " || $0 == "\t" }.trimmingCharacters(in: .whitespaces)
    }
    return values
}

import Foundation
import Logging
import ModbusBridge

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

import Foundation
import ModbusBridge
import OperatorKit
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

/// Issue 15, point 4: per-unit timing on a shared bus, a slow emulated unit, and the wrong
/// TCP framing named with the flag to use.
@Suite("Per-device timing on a shared bus")
struct SharedBusTimingTests {
    /// Unit 1 answers at once, unit 2 after 300 ms, on one Modbus TCP bus.
    static func bus() throws -> RunningTCPBus {
        var slow = meter("sdm120", unit: 2, seed: 2)
        slow.responseDelay = .milliseconds(300)
        return try RunningTCPBus(meters: [meter("sdm630", unit: 1), slow])
    }

    static func client(port: Int, timings: [UInt8: UnitTiming]) throws -> ModbusClient {
        try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: port),
            options: ClientOptions(responseTimeout: .milliseconds(100), retry: RetryPolicy(maxAttempts: 1)),
            timings: timings,
            logger: silentLogger
        )
    }

    @Test("a slow meter and a fast one share a bus: each read with its own timeout, no timeouts")
    func slowAndFastMetersShareABus() async throws {
        let running = try Self.bus()
        let sdm630 = try testLibrary.profile(named: "sdm630")
        let sdm120 = try testLibrary.profile(named: "sdm120")

        // One timeout for the bus, short enough for the fast meter: the slow one never answers in time.
        let uniform = try Self.client(port: running.port, timings: [:])
        _ = try await MeterReader(client: uniform, profile: sdm630, unit: 1).read()
        let error = await #expect(throws: ModbusError.self) {
            _ = try await MeterReader(client: uniform, profile: sdm120, unit: 2).read()
        }
        #expect(error?.kind == .timeout)
        await uniform.close()

        // The slow unit's own timeout: both read, every request answered the first time.
        let timed = try Self.client(
            port: running.port,
            timings: [2: UnitTiming(responseTimeout: .seconds(2), attempts: 2, interFrameDelay: .milliseconds(5))]
        )
        // The slow unit first: the line may still be busy with its late answer to the
        // request that timed out above, which its own timeout waits out.
        for _ in 0..<3 {
            let slow = try await MeterReader(client: timed, profile: sdm120, unit: 2).read()
            let fast = try await MeterReader(client: timed, profile: sdm630, unit: 1).read()
            #expect((207...253).contains(fast.value("voltage_l1") ?? 0))
            #expect((207...253).contains(slow.value("voltage") ?? 0))
        }
        let statistics = await timed.statistics
        #expect(statistics.retries == 0 && statistics.failures == 0)
        await timed.close()
    }

    @Test("the agent file sets timing per bus and per meter; bad values name the field")
    func agentFileTiming() throws {
        let directory = makeTempDir(prefix: "gl-timing")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func load(bus: String, meter: String) throws -> AgentConfig {
            let path = directory + "/agent.yaml"
            try """
            gateway: http://127.0.0.1:8080
            data: agent-data
            buses:
              - device: /dev/ttyUSB0
                \(bus)
                meters:
                  - { unit: 1, profile: sdm630, key: fast.key }
                  - { unit: 2, profile: em24, key: slow.key\(meter) }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return try AgentFile.load(path: path)
        }
        let config = try load(bus: "timeout: 200ms", meter: ", timeout: 1.5s, attempts: 5, inter-frame-delay: 20ms")
        let meters = config.buses[0].meters
        #expect(meters[0].timing == UnitTiming(responseTimeout: .milliseconds(200)))
        #expect(
            meters[1].timing
                == UnitTiming(responseTimeout: .milliseconds(1500), attempts: 5, interFrameDelay: .milliseconds(20))
        )
        #expect(try load(bus: "", meter: "").buses[0].meters.allSatisfy { $0.timing == nil })
        let error = #expect(throws: ConfigFileError.self) { try load(bus: "", meter: ", timeout: 2m") }
        #expect(error?.description.contains("meters[1].timeout") == true)
        let attempts = #expect(throws: ConfigFileError.self) { try load(bus: "attempts: 0", meter: "") }
        #expect(attempts?.description.contains("meters[0].attempts: must be 1 to 20") == true)
    }

    @Test("read in the wrong TCP framing says which flag to use")
    func wrongFramingIsNamed() throws {
        let running = try RunningTCPBus(meters: [meter("sdm630", unit: 1)])
        let result = try CommandLineTests.run([
            "read", "--rtu-tcp", "127.0.0.1:\(running.port)", "--profile", "sdm630", "--unit", "1", "--once",
            "--timeout", "200ms", "--attempts", "1",
        ])
        #expect(result.status != 0)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1, "\(result.error)")
        #expect(result.error.contains("answers Modbus TCP; use --tcp 127.0.0.1:\(running.port)"), "\(result.error)")
    }
}

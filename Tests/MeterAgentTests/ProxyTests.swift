import Foundation
import ModbusBridge
import TestSupport
import Testing

@testable import MeterAgent
@testable import MeterEmulator

/// Issue 15, point 5: `meter-agent proxy` shares one device among many clients, read-only and
/// on loopback unless told otherwise.
@Suite("Modbus proxy", .serialized)
struct ProxyTests {
    /// An emulated SDM630 (unit 1) and EM24 (unit 2) behind a proxy on a free loopback port.
    final class Setup {
        let device: RunningTCPBus
        let upstream: ModbusClient
        let proxy: ModbusTCPServer

        init(allowWrites: Bool = false) throws {
            device = try RunningTCPBus(meters: [meter("sdm630", unit: 1), meter("em24", unit: 2, seed: 2)])
            upstream = try ModbusClient(
                endpoint: .tcp(host: "127.0.0.1", port: device.port),
                options: ClientOptions(responseTimeout: .milliseconds(300), retry: RetryPolicy(maxAttempts: 1)),
                logger: silentLogger
            )
            proxy = try ModbusTCPServer(
                host: "127.0.0.1",
                port: 0,
                proxy: ModbusProxy(client: upstream, allowWrites: allowWrites, logger: silentLogger),
                options: ServerOptions(logger: silentLogger)
            )
            try proxy.start()
        }

        deinit { proxy.stop() }

        func client() throws -> ModbusClient {
            try ModbusClient(
                endpoint: .tcp(host: "127.0.0.1", port: proxy.port),
                options: ClientOptions(responseTimeout: .seconds(2), retry: RetryPolicy(maxAttempts: 1)),
                logger: silentLogger
            )
        }

        /// mbpoll through the proxy, as another tool on the same meters.
        func mbpoll(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try runMbpoll(["-1", "-o", "2"] + arguments + ["127.0.0.1", "-p", "\(proxy.port)"])
        }
    }

    @Test("the agent's reader and mbpoll read through the proxy at the same time")
    func manyClientsShareOneDevice() async throws {
        let setup = try Setup()
        let sdm630 = try testLibrary.profile(named: "sdm630")
        let agent = try setup.client()
        async let polls: [Double] = {
            var voltages: [Double] = []
            for _ in 0..<10 {
                voltages.append(
                    try await MeterReader(client: agent, profile: sdm630, unit: 1).read().value("voltage_l1") ?? 0
                )
            }
            return voltages
        }()
        let other = try await Task.detached {
            try (0..<5).map { _ in try setup.mbpoll(["-a", "2", "-t", "4", "-r", "1", "-c", "2"]) }
        }.value
        for voltage in try await polls { #expect((207...253).contains(voltage)) }
        for run in other {
            #expect(run.status == 0, "\(run.output)")
            #expect(mbpollValues(run.output).count == 2, "\(run.output)")
        }
        #expect(await agent.statistics.failures == 0)
        await agent.close()
    }

    @Test("writes are refused unless allowed; the meter's own exceptions pass through")
    func readOnlyByDefault() async throws {
        let setup = try Setup()
        let refused = try setup.mbpoll(["-a", "2", "-t", "4", "-r", "1", "0"])
        #expect(refused.status != 0 && refused.output.contains("Illegal function"), "\(refused.output)")

        let writable = try Setup(allowWrites: true)
        // Passed on: the EM24 itself refuses a write to a measurement with exception 02.
        let passed = try writable.mbpoll(["-a", "2", "-t", "4", "-r", "53", "0"])
        #expect(passed.status != 0 && passed.output.contains("Illegal data address"), "\(passed.output)")
    }

    @Test("a unit that does not answer gives exception 0B; the proxy keeps serving")
    func silentUnit() async throws {
        let setup = try Setup()
        let client = try setup.client()
        let error = await #expect(throws: ModbusError.self) {
            _ = try await client.readRegisters(.holdingRegisters, address: 0, count: 2, unit: 9)
        }
        #expect(error?.kind == .exception(.gatewayTargetFailedToRespond), "\(String(describing: error))")
        let registers = try await client.readRegisters(.holdingRegisters, address: 0, count: 2, unit: 2)
        #expect(registers.count == 2)
        await client.close()
    }

    @Test("listening beyond loopback needs --allow-remote")
    func loopbackOnlyByDefault() throws {
        let result = try CommandLineTests.run(["proxy", "--tcp", "127.0.0.1:1", "--listen", "0.0.0.0:0"])
        #expect(result.status != 0)
        #expect(result.error.contains("--allow-remote"), "\(result.error)")
        #expect(throws: (any Error).self) {
            try ProxyCommand.parse(["--tcp", "127.0.0.1:1", "--unit-timeout", "300=1s"])
        }
    }
}

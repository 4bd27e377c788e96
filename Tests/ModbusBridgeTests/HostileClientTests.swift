import Foundation
import Glibc
import TestSupport
import Testing

@testable import ModbusBridge

/// The server behaves like meter firmware when clients misbehave: writes to measurements are
/// refused with the firmware's exception, and silent or stalled TCP clients are let go.
@Suite("Hostile clients")
struct HostileClientTests {
    let sdm630 = try! ProfileTests.library.profile(named: "sdm630")
    let em24 = try! ProfileTests.library.profile(named: "em24")

    /// A bank for `profile` filled with `values`, read-only as the emulator serves it.
    func meterBank(_ profile: MeterProfile, values: [String: Double]) throws -> RegisterBank {
        let bank = try RegisterBank(layout: .covering(profile), access: .readOnly(functions: profile.functions))
        try bank.apply(profile.registerWrites(for: values))
        return bank
    }

    func tcpServer(
        _ units: [UInt8: RegisterBank],
        idleTimeout: Duration? = ServerOptions.defaultIdleTimeout,
        maxConnections: Int = 16
    ) throws -> ModbusTCPServer {
        let server = try ModbusTCPServer(
            port: 0,
            units: units,
            options: ServerOptions(idleTimeout: idleTimeout, logger: quietLogger),
            maxConnections: maxConnections
        )
        try server.start()
        return server
    }

    @Test(
        "a write to an EM24 measurement is refused as the firmware refuses it, and changes nothing",
        arguments: ["rtu", "tcp"]
    )
    func em24Writes(transport: String) async throws {
        let values: [String: Double] = ["energy_import": 4606.8, "voltage_l1": 230.4]
        let bank = try meterBank(em24, values: values)
        let energy = try #require(em24.measurand(named: "energy_import"))
        let before = try bank.registers(.holdingRegisters, at: energy.address, count: 2)
        let client: ModbusClient
        let statistics: () -> ServerStatistics
        var line: ServedLine?
        var server: ModbusTCPServer?
        defer { server?.stop() }
        if transport == "rtu" {
            line = try ServedLine(units: [1: bank])
            client = try line!.client()
            statistics = { [line] in line!.server.statistics }
        } else {
            server = try tcpServer([1: bank])
            client = try ModbusClient(
                endpoint: .tcp(host: "127.0.0.1", port: server!.port),
                options: ClientOptions(retry: .none),
                logger: quietLogger
            )
            statistics = { [server] in server!.statistics }
        }
        // Function 06, which the EM24 implements: the address is not writable.
        let single = await #expect(throws: ModbusError.self) {
            try await client.writeRegister(address: energy.address, value: 0, unit: 1)
        }
        #expect(single?.kind == .exception(.illegalDataAddress))
        // Functions 16 and 05, which it does not implement.
        let multiple = await #expect(throws: ModbusError.self) {
            try await client.writeRegisters(address: energy.address, values: [0, 0], unit: 1)
        }
        #expect(multiple?.kind == .exception(.illegalFunction))
        let coil = await #expect(throws: ModbusError.self) {
            try await client.writeCoil(address: 0, value: true, unit: 1)
        }
        #expect(coil?.kind == .exception(.illegalFunction))
        #expect(try await client.readRegisters(.holdingRegisters, address: energy.address, count: 2, unit: 1) == before)
        #expect(try bank.registers(.holdingRegisters, at: energy.address, count: 2) == before)
        #expect(statistics().refused == 3)
    }

    @Test("mbpoll's writes to an SDM630's energy counter get the firmware's exceptions; the counter stays")
    func mbpollWritesRefused() throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)])
        defer { server.stop() }
        let connection = ["-m", "tcp", "-p", String(server.port), "-a", "1", "-0", "-o", "1"]
        // A float written with function 16 (which Eastron implements) to 0x0048: not writable.
        let float = try ForeignClientTests.runMbpoll(
            connection + ["-t", "4:float", "-B", "-r", String(0x48), "127.0.0.1", "99"]
        )
        #expect(float.status != 0)
        #expect(float.output.contains("Illegal data address"), "\(float.output)")
        // One register written with function 06, which Eastron firmware does not implement.
        let word = try ForeignClientTests.runMbpoll(connection + ["-t", "4", "-r", String(0x48), "127.0.0.1", "7"])
        #expect(word.status != 0)
        #expect(word.output.contains("Illegal function"), "\(word.output)")
        // Function 05 likewise.
        let coil = try ForeignClientTests.runMbpoll(connection + ["-t", "0", "-r", "0", "127.0.0.1", "1"])
        #expect(coil.output.contains("Illegal function"), "\(coil.output)")
        let values = try ForeignClientTests.mbpoll(
            connection + ["-t", "3:float", "-B", "-r", String(0x48), "-c", "2", "-1", "127.0.0.1"]
        )
        #expect(expectClose(values[0x48], 1234.5))
        #expect(expectClose(values[0x4A], 12.25))
        #expect(server.statistics.refused == 3)
    }

    @Test("a client that connects and says nothing is disconnected, and cannot keep another one out")
    func idleClientDropped() async throws {
        let server = try tcpServer(
            [1: meterBank(sdm630, values: sdm630Values)],
            idleTimeout: .milliseconds(200),
            maxConnections: 1
        )
        defer { server.stop() }
        let idle = try RawTCPClient(port: server.port)
        try await waitUntil("the idle client is accepted") { server.statistics.connectionsAccepted == 1 }
        // The only connection the server takes is the idle client's until its timeout ends;
        // then mbpoll is served.
        let arguments = [
            "-m", "tcp", "-p", String(server.port), "-a", "1", "-t", "3:float", "-B", "-0", "-r", String(0x48),
            "-c", "1", "-1", "-o", "1", "127.0.0.1",
        ]
        var energy: Double?
        try await waitUntil("mbpoll is served") {
            energy = (try? ForeignClientTests.mbpoll(arguments))?[0x48]
            return energy != nil
        }
        #expect(expectClose(energy, 1234.5))
        try await waitUntil("the idle client is disconnected") { idle.isClosedByServer }
        #expect(server.statistics.idleConnectionsClosed >= 1)
    }

    @Test("an idle client is disconnected while other clients are served")
    func idleBesideBusy() async throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)], idleTimeout: .milliseconds(200))
        defer { server.stop() }
        let idle = try RawTCPClient(port: server.port)
        let arguments = [
            "-m", "tcp", "-p", String(server.port), "-a", "1", "-t", "3:float", "-B", "-0", "-r", String(0x46),
            "-c", "1", "-1", "-o", "1", "127.0.0.1",
        ]
        var served = 0
        try await waitUntil("the idle client is disconnected") {
            let values = try ForeignClientTests.mbpoll(arguments)
            #expect(expectClose(values[0x46], 50.02))
            served += 1
            return idle.isClosedByServer
        }
        #expect(served >= 1)
        #expect(server.statistics.idleConnectionsClosed >= 1)
    }

    @Test("our client, disconnected while idle, reconnects for its next read")
    func clientReconnects() async throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)], idleTimeout: .milliseconds(200))
        defer { server.stop() }
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: server.port),
            options: ClientOptions(retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(5))),
            logger: quietLogger
        )
        let first = try await client.readRegisters(.inputRegisters, address: 0x48, count: 2, unit: 1)
        try await waitUntil("the client's connection is closed as idle") {
            server.statistics.idleConnectionsClosed == 1
        }
        #expect(try await client.readRegisters(.inputRegisters, address: 0x48, count: 2, unit: 1) == first)
        #expect(server.statistics.connectionsAccepted == 2)
    }

    @Test("a client that sends half a request and stalls is disconnected; the request is never answered")
    func stalledHalfFrame() async throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)], idleTimeout: .milliseconds(200))
        defer { server.stop() }
        let stalled = try RawTCPClient(port: server.port)
        // Read 2 input registers at 0x0048 from unit 1: MBAP header, then the PDU; only 9 of 12 bytes.
        let request: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x04, 0x00, 0x48, 0x00, 0x02]
        #expect(stalled.send(Array(request[0..<9])))
        try await waitUntil("the stalled client is disconnected") { stalled.isClosedByServer }
        #expect(server.statistics.framingErrors == 1)
        #expect(server.statistics.requests == 0)
    }

    @Test("a client trickling a request byte by byte, each within the timeout, is still disconnected")
    func trickledFrame() async throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)], idleTimeout: .milliseconds(200))
        defer { server.stop() }
        let trickler = try RawTCPClient(port: server.port)
        // A write of 123 registers (259 bytes): sent a byte every 50 ms it would take 13 s.
        let count = 123
        var request: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, UInt8(7 + 2 * count), 0x01, 0x10, 0x00, 0x00]
        request += [0x00, UInt8(count), UInt8(2 * count)] + [UInt8](repeating: 0, count: 2 * count)
        for byte in request {
            guard !trickler.isClosedByServer, trickler.send([byte]) else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await waitUntil("the trickling client is disconnected") { trickler.isClosedByServer }
        #expect(server.statistics.requests == 0)
        #expect(server.statistics.framingErrors == 1)
    }

    @Test("with no idle timeout a silent client stays connected")
    func noIdleTimeout() async throws {
        let server = try tcpServer([1: meterBank(sdm630, values: sdm630Values)], idleTimeout: nil)
        defer { server.stop() }
        let silent = try RawTCPClient(port: server.port)
        try await waitUntil("the silent client is accepted") { server.statistics.connectionsAccepted == 1 }
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: server.port),
            options: ClientOptions(retry: .none),
            logger: quietLogger
        )
        _ = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 1)
        #expect(!silent.isClosedByServer)
        #expect(server.statistics.idleConnectionsClosed == 0)
    }

    @Test("every disconnection is reported with its reason and the client's address")
    func dropsReported() async throws {
        let reported = Reported()
        let options = ServerOptions(
            idleTimeout: .milliseconds(200),
            connectionDropped: { reported.append($0) },
            logger: quietLogger
        )
        let server = try ModbusTCPServer(port: 0, units: [1: meterBank(sdm630, values: sdm630Values)], options: options)
        try server.start()
        defer { server.stop() }
        let idle = try RawTCPClient(port: server.port)
        let stalled = try RawTCPClient(port: server.port)
        stalled.send([0x00, 0x01, 0x00, 0x00])
        let garbage = try RawTCPClient(port: server.port)
        garbage.send([0x00, 0x01, 0x12, 0x34, 0x00, 0x06])  // protocol id 0x1234: not Modbus
        try await waitUntil("the three clients are let go") {
            idle.isClosedByServer && stalled.isClosedByServer && garbage.isClosedByServer
        }
        // A server that keeps silent clients for ever, full with one.
        var full = options
        full.idleTimeout = nil
        let busy = try ModbusTCPServer(
            port: 0,
            units: [1: meterBank(sdm630, values: sdm630Values)],
            options: full,
            maxConnections: 1
        )
        try busy.start()
        defer { busy.stop() }
        let first = try RawTCPClient(port: busy.port)
        try await waitUntil("the first client is accepted") { busy.statistics.connectionsAccepted == 1 }
        let second = try RawTCPClient(port: busy.port)
        try await waitUntil("the second client is turned away") { second.isClosedByServer }
        #expect(!first.isClosedByServer)
        let drops = reported.drops
        #expect(Set(drops.map(\.reason)) == Set(DroppedConnection.Reason.allCases), "\(drops)")
        #expect(drops.first { $0.reason == .stalledFrame }?.pendingBytes == 4)
        #expect(drops.allSatisfy { $0.peer.hasPrefix("127.0.0.1:") }, "\(drops)")
    }
}

/// Drops reported by a server's thread, read by the test.
final class Reported: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [DroppedConnection] = []

    func append(_ drop: DroppedConnection) { lock.withLock { recorded.append(drop) } }
    var drops: [DroppedConnection] { lock.withLock { recorded } }
}

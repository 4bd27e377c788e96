import Foundation
import Glibc
import TestSupport
import Testing

@testable import ModbusBridge

@Suite("Client and server over a pseudo-terminal and TCP")
struct ClientServerTests {
    let sdm630 = try! ProfileTests.library.profile(named: "sdm630")

    @Test("an SDM630 bank reads back through the read plan over RTU")
    func sdm630OverRTU() async throws {
        let line = try ServedLine(units: [1: bank(for: sdm630, values: sdm630Values)])
        let reader = MeterReader(client: try line.client(), profile: sdm630, unit: 1)
        let snapshot = try await reader.read()
        for (name, expected) in sdm630Values {
            #expect(expectClose(snapshot.value(name), expected), "\(name): \(String(describing: snapshot.value(name)))")
        }
        #expect(snapshot.requests == reader.plan.requests.count)
        // The server counts an answer once it is written, which the client may read first.
        try await waitUntil("the server counts every answer") { line.server.statistics.replies == snapshot.requests }
    }

    @Test("every data type and word order round-trips over RTU and TCP", arguments: ["rtu", "tcp"])
    func allTypes(transport: String) async throws {
        var measurands: [Measurand] = []
        var values: [String: Double] = [:]
        var address: UInt16 = 0
        for type in DataType.allCases {
            for order in WordOrder.allCases {
                let name = "\(type.rawValue)_\(order.rawValue)"
                let table: RegisterTable = measurands.count % 2 == 0 ? .holdingRegisters : .inputRegisters
                measurands.append(
                    Measurand(
                        name: name,
                        table: table,
                        address: address,
                        type: type,
                        order: order,
                        scale: type.isFloatingPoint ? 1 : 0.1,
                        unit: ""
                    )
                )
                values[name] = type.isFloatingPoint ? -1234.5 : (type.rawValue.hasPrefix("u") ? 6553.5 : -3276.8)
                address += UInt16(type.registerCount) + 1
            }
        }
        let profile = MeterProfile(name: "all", manufacturer: "t", model: "t", measurands: measurands)
        let units: [UInt8: RegisterBank] = [7: try bank(for: profile, values: values)]
        let snapshot: MeterSnapshot
        if transport == "rtu" {
            let line = try ServedLine(units: units)
            snapshot = try await MeterReader(client: try line.client(), profile: profile, unit: 7).read()
        } else {
            let server = try ModbusTCPServer(port: 0, units: units, options: ServerOptions(logger: quietLogger))
            try server.start()
            defer { server.stop() }
            let client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: server.port), logger: quietLogger)
            snapshot = try await MeterReader(client: client, profile: profile, unit: 7).read()
        }
        #expect(snapshot.measurements.count == measurands.count)
        for measurement in snapshot.measurements {
            #expect(
                expectClose(measurement.value, values[measurement.measurand.name]!, tolerance: 1e-6),
                "\(measurement.measurand.name) = \(measurement.value)"
            )
        }
    }

    @Test("a read past the bank gets exception 02, named")
    func illegalAddress() async throws {
        let line = try ServedLine(units: [1: bank(for: sdm630, values: [:])])
        let client = try line.client()
        let error = await #expect(throws: ModbusError.self) {
            _ = try await client.readRegisters(.inputRegisters, address: 0x0170, count: 2, unit: 1)
        }
        #expect(error?.kind == .exception(.illegalDataAddress))
        #expect(error?.description.contains("ILLEGAL DATA ADDRESS") == true)
        #expect(error?.description.contains(line.terminal.path) == true)
    }

    @Test("a unit nobody serves stays silent: timeout")
    func absentUnit() async throws {
        let line = try ServedLine(units: [1: bank(for: sdm630, values: [:])])
        let client = try line.client(timeout: .milliseconds(100))
        let error = await #expect(throws: ModbusError.self) {
            _ = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 9)
        }
        #expect(error?.kind == .timeout)
        #expect(error?.errno == ETIMEDOUT)
        #expect(line.server.statistics.ignored == 1)
    }

    @Test("two unit ids on one line answer with their own data")
    func twoUnits() async throws {
        let first = try bank(for: sdm630, values: ["voltage_l1": 230])
        let second = try bank(for: sdm630, values: ["voltage_l1": 215])
        let line = try ServedLine(units: [1: first, 2: second])
        let client = try line.client()
        let one = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 1)
        let two = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 2)
        #expect(RegisterCodec.decode(one[...], as: .float32, order: .ABCD) == .float(230))
        #expect(RegisterCodec.decode(two[...], as: .float32, order: .ABCD) == .float(215))
    }

    @Test(
        "injected faults come back as the right typed errors",
        arguments: [
            (Fault.corruptFrame, ModbusError.Kind.badCRC),
            (Fault.noReply, ModbusError.Kind.timeout),
            (Fault.delay(.milliseconds(400)), ModbusError.Kind.timeout),
            (Fault.exception(.serverDeviceBusy), ModbusError.Kind.exception(.serverDeviceBusy)),
        ]
    )
    func faults(fault: Fault, kind: ModbusError.Kind) async throws {
        let options = ServerOptions(faults: FaultInjection(rate: 1, faults: [fault]), logger: quietLogger)
        let line = try ServedLine(units: [1: bank(for: sdm630, values: [:])], options: options)
        // A fault that still answers (a damaged frame, an exception) gets all the time a loaded
        // machine may need to deliver it; the silent and the late ones only need the 400 ms
        // delay to outlast the timeout.
        let answers = kind != .timeout
        let client = try line.client(timeout: answers ? .seconds(10) : .milliseconds(150))
        let error = await #expect(throws: ModbusError.self) {
            _ = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 1)
        }
        #expect(error?.kind == kind)
        #expect(line.server.statistics.faultsInjected == 1)
    }

    @Test("a corrupt frame over TCP is a bad frame")
    func tcpCorruptFrame() async throws {
        let options = ServerOptions(faults: FaultInjection(rate: 1, faults: [.corruptFrame]), logger: quietLogger)
        let server = try ModbusTCPServer(port: 0, units: [1: bank(for: sdm630, values: [:])], options: options)
        try server.start()
        defer { server.stop() }
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: server.port),
            options: ClientOptions(retry: .none),
            logger: quietLogger
        )
        let error = await #expect(throws: ModbusError.self) {
            _ = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: 1)
        }
        #expect(error?.kind == .badFrame)
    }

    @Test("retries with backoff ride out a faulty line")
    func retriesRecover() async throws {
        let options = ServerOptions(
            faults: FaultInjection(
                rate: 0.3,
                faults: [.noReply, .corruptFrame, .exception(.serverDeviceBusy)],
                seed: 7
            ),
            logger: quietLogger
        )
        let line = try ServedLine(units: [1: bank(for: sdm630, values: sdm630Values)], options: options)
        let client = try line.client(
            retry: RetryPolicy(maxAttempts: 8, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20)),
            // Long enough that a loaded machine's answers are not taken for silent ones, which
            // would use up the attempts meant for the injected faults.
            timeout: .milliseconds(300)
        )
        let reader = MeterReader(client: client, profile: sdm630, unit: 1)
        for _ in 0..<10 {
            let snapshot = try await reader.read()
            #expect(expectClose(snapshot.value("voltage_l1"), 230.1))
        }
        let statistics = await client.statistics
        #expect(statistics.retries > 0)
        #expect(statistics.failures == 0)
        // Every fault costs a retry; a loaded machine may add retries of its own (an answer
        // later than the 80 ms timeout), so only this direction holds.
        #expect(line.server.statistics.faultsInjected <= statistics.retries)
        #expect(line.server.statistics.faultsInjected > 0)
    }

    @Test("writes of single and multiple registers land in the bank")
    func writes() async throws {
        let bank = try RegisterBank(layout: BankLayout(coils: 0..<8, holdingRegisters: 0x100..<0x110))
        let line = try ServedLine(units: [3: bank])
        let client = try line.client()
        try await client.writeRegister(address: 0x100, value: 0xBEEF, unit: 3)
        try await client.writeRegisters(address: 0x102, values: [1, 2, 3], unit: 3)
        try await client.writeCoil(address: 5, value: true, unit: 3)
        #expect(try bank.registers(.holdingRegisters, at: 0x100, count: 5) == [0xBEEF, 0, 1, 2, 3])
        #expect(try await client.readRegisters(.holdingRegisters, address: 0x102, count: 3, unit: 3) == [1, 2, 3])
        #expect(try await client.readBits(.coils, address: 4, count: 2, unit: 3) == [false, true])
    }

    @Test("wire timing still answers correctly")
    func wireTiming() async throws {
        let settings = SerialSettings(baud: 19200)
        let line = try ServedLine(
            units: [1: bank(for: sdm630, values: sdm630Values)],
            settings: settings,
            options: ServerOptions(wireTiming: true, logger: quietLogger)
        )
        let snapshot = try await MeterReader(client: try line.client(), profile: sdm630, unit: 1).read()
        #expect(expectClose(snapshot.value("frequency"), 50.02))
    }

    @Test("RTU frames over a TCP connection, as a serial-to-Ethernet converter carries them")
    func rtuOverTCP() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        #expect(listen(listener, 1) == 0)
        let port = Int(UInt16(bigEndian: address.sin_port))
        defer { Glibc.close(listener) }

        // The converter's side: an RTU server on the accepted connection.
        let accepted = Task.detached { () -> Int32 in accept(listener, nil, nil) }
        let client = try ModbusClient(endpoint: .rtuOverTCP(host: "127.0.0.1", port: port), logger: quietLogger)
        try await client.connect()
        let connection = await accepted.value
        #expect(connection >= 0)
        let server = try ModbusRTUServer(
            descriptor: connection,
            path: "tcp connection",
            owner: DescriptorOwner(connection),
            settings: SerialSettings(),
            units: [1: bank(for: sdm630, values: sdm630Values)],
            options: ServerOptions(logger: quietLogger)
        )
        try server.start()
        defer { server.stop() }
        let snapshot = try await MeterReader(client: client, profile: sdm630, unit: 1).read()
        #expect(expectClose(snapshot.value("energy_import"), 1234.5))
    }

    @Test("a missing serial device is named as such")
    func missingDevice() async throws {
        let client = try ModbusClient(
            endpoint: .rtu(device: "/dev/ttyNOPE9", settings: SerialSettings()),
            logger: quietLogger
        )
        let error = await #expect(throws: ModbusError.self) { try await client.connect() }
        #expect(error?.kind == .noSuchDevice)
        #expect(error?.description.contains("/dev/ttyNOPE9") == true)
    }

    @Test("bad serial settings are refused before anything is opened")
    func badSettings() {
        let error = #expect(throws: ModbusError.self) {
            _ = try ModbusClient(endpoint: .rtu(device: "/dev/null", settings: SerialSettings(baud: 9601)))
        }
        #expect(error?.kind == .invalidArgument)
        #expect(error?.message.contains("9600") == true)
    }

    @Test("nothing listening over TCP is connection refused")
    func refused() async throws {
        let server = try ModbusTCPServer(port: 0, units: [:], options: ServerOptions(logger: quietLogger))
        let port = server.port
        _ = consume server  // closes the listener: nothing listens on the port any more
        let client = try ModbusClient(
            endpoint: .tcp(host: "127.0.0.1", port: port),
            options: ClientOptions(retry: .none),
            logger: quietLogger
        )
        let error = await #expect(throws: ModbusError.self) { try await client.connect() }
        #expect(error?.kind == .connectionRefused)
    }
}

/// Closes a descriptor when released.
final class DescriptorOwner {
    let descriptor: Int32
    init(_ descriptor: Int32) { self.descriptor = descriptor }
    deinit { Glibc.close(descriptor) }
}

import Foundation
import Glibc
import TestSupport
import Testing

@testable import ModbusBridge

@Suite("One server for many units")
struct ManyUnitsTests {
    let sdm120 = try! ProfileTests.library.profile(named: "sdm120")

    @Test("247 units on one TCP server each answer from their own bank")
    func everyUnitAnswersFromItsOwnBank() async throws {
        var units: [UInt8: RegisterBank] = [:]
        for unit in UInt8(1)...247 {
            units[unit] = try bank(for: sdm120, values: ["voltage": 200 + Double(unit) / 10])
        }
        let server = try ModbusTCPServer(port: 0, units: units, options: ServerOptions(logger: quietLogger))
        try server.start()
        defer { server.stop() }
        let client = try ModbusClient(endpoint: .tcp(host: "127.0.0.1", port: server.port), logger: quietLogger)
        for unit in UInt8(1)...247 {
            let snapshot = try await MeterReader(client: client, profile: sdm120, unit: unit).read()
            let voltage = snapshot.measurements.first { $0.measurand.name == "voltage" }?.value
            #expect(
                expectClose(voltage ?? 0, 200 + Double(unit) / 10, tolerance: 1e-3),
                "unit \(unit): \(voltage ?? 0)"
            )
        }
        #expect(server.statistics.replies >= 247)
        #expect(server.statistics.rejected == 0)
    }

    @Test("the descriptor libmodbus answers on is moved below FD_SETSIZE, or refused when none is free")
    func responderDescriptorStaysBelowTheSelectLimit() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 2048, limit.rlim_max >= 2048 {
            limit.rlim_cur = 2048
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        try #require(limit.rlim_cur >= 2048, "this test needs 2,048 descriptors (ulimit -n)")
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(socket >= 0)
        let high = fcntl(socket, F_DUPFD, 1500)
        close(socket)
        try #require(high >= 1500)
        let moved = try FrameResponder.belowSelectLimit(high)
        defer { close(moved) }
        #expect(moved < Int32(FD_SETSIZE))
        #expect(fcntl(high, F_GETFD) == -1, "the high descriptor is closed")
        #expect(try FrameResponder.belowSelectLimit(moved) == moved)
    }
}

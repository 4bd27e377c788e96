import Foundation
import TestSupport
import Testing

@testable import ModbusBridge

/// `mbpoll`, a Modbus client nobody here wrote, must read what we serve.
@Suite("Foreign client (mbpoll)")
struct ForeignClientTests {
    /// Runs mbpoll and returns the values it prints as `[ref]: value` lines.
    static func mbpoll(_ arguments: [String]) throws -> [Int: Double] {
        let (status, text) = try runMbpoll(arguments)
        var values: [Int: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("[") {
            let parts = line.dropFirst().split(separator: "]", maxSplits: 1)
            guard parts.count == 2, let reference = Int(parts[0]) else { continue }
            let value = parts[1].drop { $0 == ":" || $0 == " " || $0 == "\t" }
            values[reference] = Double(value.trimmingCharacters(in: .whitespaces))
        }
        guard status == 0 else {
            throw MbpollFailed(output: text)
        }
        return values
    }

    /// Runs mbpoll to its end and returns its exit status and everything it printed.
    static func runMbpoll(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let candidates = ["/usr/bin/mbpoll", "/usr/local/bin/mbpoll"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw MissingTool()
        }
        return try SpawnedProcess.run(path, arguments)
    }

    struct MissingTool: Error, CustomStringConvertible {
        var description: String { "mbpoll is not installed: run scripts/setup" }
    }

    struct MbpollFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "mbpoll failed:\n\(output)" }
    }

    @Test("mbpoll reads the served SDM630 floats over RTU")
    func rtu() throws {
        let profile = try ProfileTests.library.profile(named: "sdm630")
        let line = try ServedLine(units: [1: bank(for: profile, values: sdm630Values)])
        // Input registers as float32, high word first (-B), PDU addresses (-0), 0x0000.. 3 values.
        let values = try Self.mbpoll([
            "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-t", "3:float", "-B",
            "-0", "-r", "0", "-c", "3", "-1", "-o", "1", line.terminal.path,
        ])
        #expect(expectClose(values[0], 230.1))
        #expect(expectClose(values[2], 229.8))
        #expect(expectClose(values[4], 231.2))
        let frequency = try Self.mbpoll([
            "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-t", "3:float", "-B",
            "-0", "-r", String(0x46), "-c", "1", "-1", "-o", "1", line.terminal.path,
        ])
        #expect(expectClose(frequency[0x46], 50.02))
    }

    @Test("mbpoll reads the served SDM630 floats over TCP")
    func tcp() throws {
        let profile = try ProfileTests.library.profile(named: "sdm630")
        let server = try ModbusTCPServer(
            port: 0,
            units: [1: bank(for: profile, values: sdm630Values)],
            options: ServerOptions(logger: quietLogger)
        )
        try server.start()
        defer { server.stop() }
        let values = try Self.mbpoll([
            "-m", "tcp", "-p", String(server.port), "-a", "1", "-t", "3:float", "-B",
            "-0", "-r", String(0x48), "-c", "2", "-1", "-o", "1", "127.0.0.1",
        ])
        #expect(expectClose(values[0x48], 1234.5))
        #expect(expectClose(values[0x4A], 12.25))
    }
}

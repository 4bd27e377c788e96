import Foundation
import TestSupport
import Testing

/// An emulated fleet at scale, with the real binary: hundreds of meters in one process, and
/// thousands of clients that come and go, some of them rudely.
@Suite("Emulated fleet with the real binary", .serialized)
struct FleetSystemTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// 2 Modbus TCP buses × 200 meters (SDM630, SDM120, EM24 dealt round-robin) from a
    /// fleet file of two lines per bus, then 2,000 connections one after another: most read
    /// a register, a tenth send half a request and vanish (every other one with a reset), a
    /// tenth connect and hang up. Every read is answered, and at the end the emulator holds
    /// the descriptors it held at the start — which are not one per meter.
    @Test func fourHundredMetersAndTwoThousandConnectionsLeakNothing() async throws {
        let root = makeTempDir(prefix: "gl-fleet")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
        seed: 3
        speed: 1
        buses:
          - tcp: 127.0.0.1:0
            meters:
              - { units: 1-200, profiles: [sdm630, sdm120, em24], roles: [consumer, pv] }
          - tcp: 127.0.0.1:0
            meters:
              - { units: 1-200, profiles: [sdm630, sdm120, em24], roles: [consumer, pv] }
        """.write(toFile: root + "/fleet.yaml", atomically: true, encoding: .utf8)
        let emulator = try RunningProcess(
            "meter-agent",
            ["emulate", "--config", root + "/fleet.yaml"],
            log: root + "/emulator.log"
        )
        defer { emulator.terminate() }
        try await waitUntil("the emulator's two buses", timeout: .seconds(60)) {
            guard emulator.process.isRunning else { throw Failure("emulate stopped: \(emulator.logText)") }
            return emulator.logText.components(separatedBy: "serving Modbus TCP").count == 3
        }
        let ports = Set(emulator.logText.matches(of: #/tcp 127\.0\.0\.1:(\d+)/#).compactMap { Int($0.1) })
            .sorted()
        try #require(ports.count == 2, "bus ports in the log: \(emulator.logText.prefix(2000))")
        #expect(emulator.logText.components(separatedBy: "emulating meter").count - 1 == 400)

        let pid = emulator.process.processIdentifier
        let atStart = try Self.descriptorCount(of: pid)
        #expect(atStart < 64, "the emulator holds \(atStart) descriptors for 400 meters")

        var answered = 0
        var reads = 0
        for index in 0..<2000 {
            let port = ports[index % 2]
            let unit = UInt8(1 + (index / 2) % 200)
            // The fleet deals profiles round-robin: SDM meters keep their values in input
            // registers (04), the EM24 in holding registers (03).
            let function: UInt8 = (unit - 1) % 3 == 2 ? 0x03 : 0x04
            let request = Self.readRequest(transaction: UInt16(index), unit: unit, function: function)
            let connection = try RawConnection(port: port)
            switch index % 10 {
            case 7:
                // Half a request, then gone: with a reset every other time.
                connection.send(bytes: Array(request.prefix(5)))
                if index % 20 == 7 { connection.reset() }
            case 9:
                break  // connect and hang up
            default:
                reads += 1
                connection.send(bytes: request)
                let answer = Array(connection.receive(atLeast: 13).prefix(9))
                let expected: [UInt8] = [UInt8(index >> 8), UInt8(index & 0xFF), 0, 0, 0, 7, unit, function, 4]
                #expect(answer == expected, "connection \(index): \(answer)")
                if answer == expected { answered += 1 }
            }
        }
        #expect(answered == reads)
        #expect(reads == 1600)
        // The server closes its side when it sees each client's end; the last ones may still be on the way.
        // At most as many as at the start: one the start-up still held then may be gone.
        do {
            try await waitUntil("the emulator's descriptors back to \(atStart)") {
                try Self.descriptorCount(of: pid) <= atStart
            }
        } catch let timedOut as TimedOut {
            throw Failure("\(timedOut); it holds \(Self.descriptorTargets(of: pid))")
        }
        #expect(emulator.process.isRunning)
        #expect(emulator.terminate() == 0)
    }

    static func descriptorCount(of pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    /// What each of the process's descriptors refers to, for a failure's message.
    static func descriptorTargets(of pid: Int32) -> [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().map { name in
            "\(name) → " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)")) ?? "?")
        }
    }

    /// A Modbus TCP request for two registers at address 0.
    static func readRequest(transaction: UInt16, unit: UInt8, function: UInt8) -> [UInt8] {
        [UInt8(transaction >> 8), UInt8(transaction & 0xFF), 0, 0, 0, 6, unit, function, 0, 0, 0, 2]
    }
}

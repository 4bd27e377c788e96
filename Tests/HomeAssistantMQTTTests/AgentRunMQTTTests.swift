import Foundation
import TestSupport
import Testing

/// `meter-agent run --mqtt` as a user runs it: an emulated meter, a real mosquitto, the
/// binary, and a subscriber.
@Suite("meter-agent run --mqtt with a real mosquitto")
struct AgentRunMQTTTests {
    static let binary = builtBinary("meter-agent")

    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String { "meter-agent is not built: run `swift build` before the tests" }
    }

    static func start(_ arguments: [String], output: String) throws -> SpawnedProcess {
        guard let binary else { throw BinaryMissing() }
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        return try SpawnedProcess(binary.path, arguments, output: .file(output))
    }

    static func stop(_ process: SpawnedProcess, signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// The sequence number of the newest reading the agent's trace log says it stored.
    static func lastStored(log: String) -> Int {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("reading stored") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("reading.seq=") }.flatMap { Int($0.dropFirst(12)) }
        }.last ?? 0
    }

    static func sequence(_ payload: String) -> Int? {
        let object = try? JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any]
        return object?["sequence"] as? Int
    }

    @Test("every stored reading is published with discovery; a broker outage never stops polling; offline at SIGTERM")
    func runPublishes() async throws {
        let mosquitto = try MosquittoBroker()
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let directory = try TempDir(prefix: "gl-agent-mqtt")
        defer { directory.cleanup() }

        let keygen = try Self.start(
            ["keygen", "--out", directory.file("meter.key")],
            output: directory.file("keygen.out")
        )
        keygen.waitUntilExit()
        let keygenOutput = try String(contentsOfFile: directory.file("keygen.out"), encoding: .utf8)
        let meterID = try #require(
            keygenOutput.split(separator: "\n").first { $0.hasPrefix("meter id ") }.map { String($0.dropFirst(9)) }
        )

        let modbusPort = try LoopbackPort.free()
        let emulator = try Self.start(
            ["emulate", "--profile", "sdm630", "--unit", "1", "--tcp", "127.0.0.1:\(modbusPort)"],
            output: directory.file("emulator.log")
        )
        defer { Self.stop(emulator) }
        let log = directory.file("agent.log")
        let agent = try Self.start(
            [
                "run", "--tcp", "127.0.0.1:\(modbusPort)", "--unit", "1", "--profile", "sdm630",
                "--key", directory.file("meter.key"), "--gateway", "http://127.0.0.1:1",
                "--gateway-id", "0123456789abcdef0123456789abcdef", "--data", directory.file("data"),
                "--interval", "200ms", "--log-level", "trace",
                "--mqtt", "mqtt://127.0.0.1:\(mosquitto.port)", "--mqtt-node", "agent",
            ],
            output: log
        )
        defer { Self.stop(agent) }

        let subscriber = try Subscriber(broker: mosquitto.broker)
        defer { subscriber.close() }
        try await subscriber.start()
        let stateTopic = "gridledger/agent/\(meterID)/state"
        try await waitUntil("the agent's states and discovery") {
            subscriber.messages(on: stateTopic).compactMap { Self.sequence($0.payload) }.count >= 2
                && !subscriber.messages(on: "homeassistant/sensor/agent/\(meterID)_energy_import/config").isEmpty
        }
        #expect(subscriber.messages(on: "gridledger/agent/availability").last?.payload == "online")
        // Each state is a reading the agent stored first.
        let published = subscriber.messages(on: stateTopic).compactMap { Self.sequence($0.payload) }
        #expect(published.allSatisfy { $0 <= Self.lastStored(log: log) })

        // The broker goes away: polling goes on, readings keep being stored.
        mosquitto.stop()
        let before = Self.lastStored(log: log)
        try await waitUntil("readings stored while the broker is down") { Self.lastStored(log: log) >= before + 5 }
        #expect(agent.isRunning)

        // Back: the newest state arrives, not a queue of old ones.
        try await mosquitto.start()
        let afterRestart = try Subscriber(broker: mosquitto.broker)
        defer { afterRestart.close() }
        try await afterRestart.start()
        try await waitUntil("a state after the restart") {
            afterRestart.messages(on: stateTopic).contains { Self.sequence($0.payload) != nil }
        }
        let first = try #require(afterRestart.messages(on: stateTopic).compactMap { Self.sequence($0.payload) }.first)
        #expect(first >= before + 5, "the first state after the outage is a recent reading, not an old one")

        Self.stop(agent, signal: SIGTERM)
        try await waitUntil("offline at SIGTERM") {
            afterRestart.messages(on: "gridledger/agent/availability").last?.payload == "offline"
        }
        #expect(agent.terminationStatus == 0)
    }
}

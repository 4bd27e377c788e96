import Foundation
import LedgerLite
import Logging
import ServiceLifecycle
import TestSupport
import Testing

@testable import AgentCore
@testable import HomeAssistantMQTT

@Suite("MQTT and Home Assistant: a real mosquitto on loopback")
struct HomeAssistantPublisherTests {
    static let meter = TestKeys.meter.id
    static let values: [LedgerLite.Measurand] = [
        .energyImportWh, .energyExportWh, .activePowerW, .voltageL1dV, .voltageL2dV, .voltageL3dV,
        .currentL1mA, .frequencyMilliHz,
    ]

    static var device: HomeAssistantDevice {
        HomeAssistantDevice(
            id: meter.hex,
            name: "Eastron SDM630 \(meter.hex.prefix(8))",
            manufacturer: "Eastron",
            model: "SDM630",
            sensors: values.compactMap { HomeAssistantReadings.kind(of: $0)?.sensor }
        )
    }

    static func reading(sequence: UInt64, energy: Int64) throws -> Reading {
        try Reading(
            meter: meter,
            sequence: sequence,
            timestamp: TestKeys.baseTime + Int64(sequence) * 1000,
            values: [
                MeasuredValue(.energyImportWh, energy), MeasuredValue(.energyExportWh, 7),
                MeasuredValue(.activePowerW, -1500), MeasuredValue(.voltageL1dV, 2301),
                MeasuredValue(.voltageL2dV, 2299), MeasuredValue(.voltageL3dV, 2310),
                MeasuredValue(.currentL1mA, 6520), MeasuredValue(.frequencyMilliHz, 49_987),
            ]
        )
    }

    /// Runs `publisher` as a service while `body` runs, then shuts it down gracefully.
    func withPublisher(_ publisher: HomeAssistantPublisher, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [.init(service: publisher)], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("broker URLs: mqtt and mqtts, user and password, one-line errors")
    func brokerURLs() throws {
        let plain = try MQTTBroker(url: "mqtt://broker.local")
        #expect(plain.host == "broker.local" && plain.port == 1883 && !plain.tls && plain.username == nil)
        let tls = try MQTTBroker(url: "mqtts://ha:s%40cret@10.0.0.2:8884")
        #expect(tls.tls && tls.port == 8884 && tls.username == "ha" && tls.password == "s@cret")
        #expect(tls.description == "mqtts://ha@10.0.0.2:8884")
        for bad in ["http://host:1883", "mqtt://", "broker:1883", "mqtt://host:1883/topic", "mqtt://host:70000"] {
            #expect(throws: MQTTError.self, "\(bad)") { try MQTTBroker(url: bad) }
        }
    }

    @Test("a reading's state: exact decimals from the integers, sensor keys from the measurands")
    func statePayload() throws {
        let state = try json(
            String(decoding: HomeAssistantReadings.state(of: Self.reading(sequence: 3, energy: 12_345)), as: UTF8.self)
        )
        #expect(state["energy_import"] as? Int == 12_345)
        #expect((state["voltage_l1"] as? Double) == 230.1)
        #expect((state["current_l1"] as? Double) == 6.52)
        #expect((state["frequency"] as? Double) == 49.987)
        #expect(state["power"] as? Int == -1500)
        #expect(state["sequence"] as? Int == 3)
        #expect(HomeAssistantReadings.decimal(-5, decimals: 3) == "-0.005")
        #expect(HomeAssistantReadings.decimal(Int64.min, decimals: 1) == "-922337203685477580.8")
    }

    @Test("discovery configs retained and well formed, state and availability online")
    func discoveryAndState() async throws {
        let mosquitto = try MosquittoBroker()
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let publisher = try HomeAssistantPublisher(
            broker: mosquitto.broker,
            node: "test-node",
            devices: [Self.device],
            logger: quietLogger
        )
        try await withPublisher(publisher) {
            try await waitUntil("publisher connected") { publisher.isConnected }
            HomeAssistantReadings(publisher: publisher).publish(try Self.reading(sequence: 1, energy: 1000))
            let hex = Self.meter.hex
            let stateTopic = "gridledger/test-node/\(hex)/state"
            func hasEverything(_ subscriber: Subscriber) -> Bool {
                subscriber.messages.filter { $0.topic.hasPrefix("homeassistant/sensor/test-node/") }.count
                    == Self.values.count
                    && !subscriber.messages(on: stateTopic).isEmpty
                    && !subscriber.messages(on: "gridledger/test-node/availability").isEmpty
            }
            // The publisher sends on its own thread: a subscriber may get some of it live.
            let first = try Subscriber(broker: mosquitto.broker)
            defer { first.close() }
            try await first.start()
            try await waitUntil("configs, state and availability") { hasEverything(first) }
            // Once the broker has delivered all of it, a subscriber that comes later gets it
            // all again, every message retained.
            let subscriber = try Subscriber(broker: mosquitto.broker)
            defer { subscriber.close() }
            try await subscriber.start()
            try await waitUntil("retained configs, state and availability") { hasEverything(subscriber) }
            #expect(subscriber.messages.allSatisfy { $0.retained })
            #expect(subscriber.messages(on: "gridledger/test-node/availability").last?.payload == "online")
            let state = try json(try #require(subscriber.messages(on: stateTopic).last).payload)
            #expect(state["energy_import"] as? Int == 1000)

            let energy = try json(
                try #require(subscriber.messages(on: "homeassistant/sensor/test-node/\(hex)_energy_import/config").last)
                    .payload
            )
            #expect(energy["unique_id"] as? String == "gridledger_\(hex)_energy_import")
            #expect(energy["device_class"] as? String == "energy")
            #expect(energy["state_class"] as? String == "total_increasing")
            #expect(energy["unit_of_measurement"] as? String == "Wh")
            #expect(energy["state_topic"] as? String == stateTopic)
            #expect(energy["value_template"] as? String == "{{ value_json.energy_import }}")
            #expect(energy["availability_topic"] as? String == "gridledger/test-node/availability")
            let device = try #require(energy["device"] as? [String: Any])
            #expect(device["identifiers"] as? [String] == [hex])
            #expect(device["manufacturer"] as? String == "Eastron")
            #expect(device["model"] as? String == "SDM630")

            let expected: [(String, String, String, String)] = [
                ("power", "power", "measurement", "W"), ("voltage_l2", "voltage", "measurement", "V"),
                ("current_l1", "current", "measurement", "A"), ("frequency", "frequency", "measurement", "Hz"),
                ("energy_export", "energy", "total_increasing", "Wh"),
            ]
            for (key, deviceClass, stateClass, unit) in expected {
                let config = try json(
                    try #require(subscriber.messages(on: "homeassistant/sensor/test-node/\(hex)_\(key)/config").last)
                        .payload
                )
                #expect(config["device_class"] as? String == deviceClass, "\(key)")
                #expect(config["state_class"] as? String == stateClass, "\(key)")
                #expect(config["unit_of_measurement"] as? String == unit, "\(key)")
                #expect(config["unique_id"] as? String == "gridledger_\(hex)_\(key)")
            }
        }
    }

    @Test(
        "the last will says offline when the connection drops; reconnects; re-announces when Home Assistant is online; offline at a clean stop"
    )
    func willReannounceAndStop() async throws {
        let mosquitto = try MosquittoBroker()
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let subscriber = try Subscriber(broker: mosquitto.broker)
        defer { subscriber.close() }
        try await subscriber.start()
        let publisher = try HomeAssistantPublisher(
            broker: mosquitto.broker,
            node: "will",
            devices: [Self.device],
            logger: quietLogger
        )
        let availability = "gridledger/will/availability"
        let discovered = { subscriber.messages.filter { $0.topic.hasPrefix("homeassistant/sensor/will/") }.count }
        let observed = {
            "\(discovered()) discovery messages; availability \(subscriber.messages(on: availability).map(\.payload))"
        }
        try await withPublisher(publisher) {
            try await waitUntil("online", observed: observed) {
                subscriber.messages(on: availability).map(\.payload) == ["online"]
            }
            // The first connection's discovery, all of it delivered before the drop.
            try await waitUntil("discovery once", observed: observed) {
                discovered() == Self.values.count
            }

            // What the broker has not acknowledged is resent after the reconnection (QoS 1, at
            // least once), which would add to the counts below: drop only when nothing is pending.
            try await waitUntil("every message acknowledged") { publisher.everythingAcknowledged }
            publisher.dropConnection()
            try await waitUntil("the will, then online again", observed: observed) {
                subscriber.messages(on: availability).map(\.payload) == ["online", "offline", "online"]
            }

            // Discovery on the first connection and again on the reconnection.
            try await waitUntil("discovery twice", observed: observed) {
                discovered() == 2 * Self.values.count
            }
            subscriber.clear()
            subscriber.publish(HomeAssistantPublisher.statusTopic, "online")
            try await waitUntil("discovery again", observed: observed) {
                discovered() == Self.values.count
            }
            subscriber.clear()
        }
        try await waitUntil("offline at the clean stop", observed: observed) {
            subscriber.messages(on: availability).map(\.payload) == ["offline"]
        }
    }

    @Test("with the broker down the poll path never waits; after a restart the newest state arrives, no older one")
    func brokerDownNewestWins() async throws {
        let mosquitto = try MosquittoBroker()
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let publisher = try HomeAssistantPublisher(
            broker: mosquitto.broker,
            node: "down",
            devices: [Self.device],
            logger: quietLogger
        )
        let readings = HomeAssistantReadings(publisher: publisher)
        try await withPublisher(publisher) {
            try await waitUntil("publisher connected") { publisher.isConnected }
            mosquitto.stop()
            try await waitUntil("publisher sees the broker gone") { !publisher.isConnected }
            for sequence in 1...200 {
                readings.publish(try Self.reading(sequence: UInt64(sequence), energy: Int64(sequence) * 10))
            }
            #expect(!publisher.isConnected)

            try await mosquitto.start()
            let subscriber = try Subscriber(broker: mosquitto.broker)
            defer { subscriber.close() }
            try await subscriber.start()
            let stateTopic = "gridledger/down/\(Self.meter.hex)/state"
            try await waitUntil("the newest state after the restart") {
                let last = subscriber.messages(on: stateTopic).last.flatMap { try? json($0.payload) }
                return last?["sequence"] as? Int == 200
            }
            let sequences = try subscriber.messages(on: stateTopic).map { try json($0.payload)["sequence"] as? Int }
            #expect(sequences.allSatisfy { $0 == 200 })
            #expect(subscriber.messages(on: "gridledger/down/availability").last?.payload == "online")
        }
    }

    @Test("a login the broker refuses is logged with its reason and retried; the right password connects")
    func login() async throws {
        let mosquitto = try MosquittoBroker(users: ["ha": "right"])
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let capture = LogCapture()
        var wrong = mosquitto.broker
        wrong.username = "ha"
        wrong.password = "wrong"
        let refused = try HomeAssistantPublisher(
            broker: wrong,
            node: "login",
            devices: [Self.device],
            logger: capture.logger
        )
        try await withPublisher(refused) {
            try await waitUntil("the refusal logged") {
                capture.all.contains { $0.contains("MQTT broker refused the connection") }
            }
            #expect(!refused.isConnected)
        }
        var right = wrong
        right.password = "right"
        let accepted = try HomeAssistantPublisher(
            broker: right,
            node: "login",
            devices: [Self.device],
            logger: quietLogger
        )
        try await withPublisher(accepted) {
            try await waitUntil("connected with the password") { accepted.isConnected }
        }
    }

    @Test("mqtts with a CA file: the broker's certificate is checked; an untrusted one is logged and never connects")
    func tls() async throws {
        let mosquitto = try MosquittoBroker(tls: true)
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        let publisher = try HomeAssistantPublisher(
            broker: mosquitto.broker,
            node: "tls",
            devices: [Self.device],
            logger: quietLogger
        )
        try await withPublisher(publisher) {
            try await waitUntil("connected over TLS") { publisher.isConnected }
            HomeAssistantReadings(publisher: publisher).publish(try Self.reading(sequence: 9, energy: 90))
            let subscriber = try Subscriber(broker: mosquitto.broker)
            defer { subscriber.close() }
            try await subscriber.start()
            try await waitUntil("the state over TLS") {
                subscriber.messages(on: "gridledger/tls/\(Self.meter.hex)/state").contains {
                    $0.payload.contains("\"sequence\":9")
                }
            }
        }
        var untrusted = mosquitto.broker
        untrusted.caFile = nil  // the system's CAs do not know this broker's certificate
        let capture = LogCapture()
        let refused = try HomeAssistantPublisher(
            broker: untrusted,
            node: "tls",
            devices: [Self.device],
            logger: capture.logger
        )
        try await withPublisher(refused) {
            try await waitUntil("the failed handshake logged") {
                capture.all.contains { $0.contains("certificate verify failed") }
            }
            #expect(!refused.isConnected)
        }
    }

    @Test(
        "stopping while the broker is down: the offline attempt is skipped and the publisher stops",
        .timeLimit(.minutes(1))
    )
    func stopWhileDown() async throws {
        let mosquitto = try MosquittoBroker()
        defer { mosquitto.cleanup() }
        try await mosquitto.start()
        var broker = mosquitto.broker
        broker.reconnectDelay = 1...30
        let publisher = try HomeAssistantPublisher(
            broker: broker,
            node: "gone",
            devices: [Self.device],
            logger: quietLogger
        )
        try await withPublisher(publisher) {
            try await waitUntil("publisher connected") { publisher.isConnected }
            mosquitto.stop()
            try await waitUntil("publisher sees the broker gone") { !publisher.isConnected }
            HomeAssistantReadings(publisher: publisher).publish(try Self.reading(sequence: 1, energy: 1))
        }
        #expect(!publisher.isConnected)
    }
}

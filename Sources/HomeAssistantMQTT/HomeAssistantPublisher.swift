import Foundation
import Logging
import OperatorKit
import ServiceLifecycle

/// Publishes devices' state to an MQTT broker for Home Assistant, through one libmosquitto
/// client on its own network thread.
///
/// Topics, for node `<node>` and device `<device>`:
/// - `gridledger/<node>/availability`: `online` (retained) on every connection, `offline`
///   (retained) at a clean stop, and `offline` as the last will when the connection drops.
/// - `gridledger/<node>/<device>/state`: the device's newest JSON state, retained.
/// - `homeassistant/sensor/<node>/<device>_<key>/config`: each sensor's discovery config,
///   retained, published on every connection and again when Home Assistant says `online`
///   on `homeassistant/status`.
///
/// `update` only stores the newest state and hands it to libmosquitto if connected: it never
/// waits for the broker. While the broker is down one state per device is kept (newer
/// replaces older) and published when the connection is back.
///
/// Availability and discovery go at QoS 1: after a drop, libmosquitto resends what the broker
/// had not acknowledged before the new connection's own `online` and discovery, so a
/// subscriber may see a config twice. Both are retained and idempotent, so that is harmless.
public final class HomeAssistantPublisher: Service, @unchecked Sendable {
    public static let discoveryPrefix = "homeassistant"
    public static let statusTopic = "homeassistant/status"

    public let node: String
    public let broker: MQTTBroker
    public let availabilityTopic: String
    private let devices: [String: HomeAssistantDevice]
    /// Every discovery config: topic and JSON, in the devices' and sensors' order.
    private let discovery: [(topic: String, payload: [UInt8])]
    private let connection: MQTTConnection
    private let logger: Logger
    private let notices: RateLimitedLog
    private let capacity: Int

    private let lock = NSLock()
    private var latest: LatestValues
    private var connected = false
    private var connections = 0
    /// The message id of the `offline` published at stop, and whether the broker took it.
    private var offlineMessage: Int32?
    /// Message ids of QoS 1 publications the broker has not acknowledged yet.
    private var unacknowledged: Set<Int32> = []
    private var offlineAcknowledged = false

    /// - Parameters:
    ///   - node: this agent's name in topics and object ids (letters, digits, `_`, `-`).
    ///   - capacity: most devices whose newest state is kept while the broker is down.
    /// - Throws: `MQTTError` for a node name that is not topic-safe or a setting libmosquitto refuses.
    public init(
        broker: MQTTBroker,
        node: String,
        devices: [HomeAssistantDevice],
        logger: Logger,
        capacity: Int = 4096
    ) throws(MQTTError) {
        guard Self.isTopicSafe(node) else {
            throw .setting("MQTT node name '\(node)' may hold only letters, digits, '_' and '-'; give --mqtt-node")
        }
        for device in devices where !Self.isTopicSafe(device.id) {
            throw .setting("device id '\(device.id)' may hold only letters, digits, '_' and '-'")
        }
        self.node = node
        self.broker = broker
        self.availabilityTopic = "gridledger/\(node)/availability"
        self.devices = Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
        self.notices = RateLimitedLog(logger: logger, interval: .seconds(60))
        self.capacity = capacity
        self.latest = LatestValues(capacity: capacity)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var discovery: [(String, [UInt8])] = []
        for device in devices {
            for sensor in device.sensors {
                let objectID = "\(device.id)_\(sensor.key)"
                let config = DiscoveryConfig(
                    name: sensor.name,
                    uniqueID: "gridledger_\(objectID)",
                    objectID: "gridledger_\(objectID)",
                    stateTopic: "gridledger/\(node)/\(device.id)/state",
                    valueTemplate: "{{ value_json.\(sensor.key) }}",
                    deviceClass: sensor.deviceClass,
                    stateClass: sensor.stateClass,
                    unit: sensor.unit,
                    availabilityTopic: availabilityTopic,
                    device: .init(
                        identifiers: [device.id],
                        name: device.name,
                        manufacturer: device.manufacturer,
                        model: device.model
                    )
                )
                let payload = (try? encoder.encode(config)).map { Array($0) } ?? []
                discovery.append(("\(Self.discoveryPrefix)/sensor/\(node)/\(objectID)/config", payload))
            }
        }
        self.discovery = discovery
        self.connection = try MQTTConnection(
            clientID: "gridledger-\(node)-\(UInt32.random(in: 0...UInt32.max))",
            broker: broker,
            will: (availabilityTopic, "offline")
        )
        var handlers = MQTTConnection.Handlers()
        handlers.connected = { [weak self] rc in self?.didConnect(rc) }
        handlers.disconnected = { [weak self] rc in self?.didDisconnect(rc) }
        handlers.message = { [weak self] topic, payload, _ in self?.received(topic: topic, payload: payload) }
        handlers.published = { [weak self] mid in self?.didPublish(mid) }
        handlers.problem = { [weak self] text in
            guard let self else { return }
            notices.log(.warning, key: "mosquitto \(text)", "MQTT: \(text)", metadata: ["mqtt.broker": "\(broker)"])
        }
        connection.setHandlers(handlers)
    }

    /// The topic of `device`'s JSON state.
    public func stateTopic(device: String) -> String { "gridledger/\(node)/\(device)/state" }

    /// Whether the client is connected to the broker now.
    public var isConnected: Bool { lock.withLock { connected } }

    /// Keeps `state` (a JSON object) as `device`'s newest and publishes it if connected.
    /// Never waits for the broker.
    public func update(device: String, state: [UInt8]) {
        let topic = stateTopic(device: device)
        let stored = lock.withLock {
            guard latest.store(.init(payload: state, retain: true), topic: topic) else { return false }
            if connected { connection.publish(topic: topic, payload: state, retain: true) }
            return true
        }
        if !stored {
            notices.log(
                .warning,
                key: "full",
                "MQTT state not kept: more devices than the publisher keeps",
                metadata: ["mqtt.topic": "\(topic)", "capacity": "\(capacity)"]
            )
        }
    }

    /// Connects (and keeps reconnecting) until graceful shutdown; then publishes `offline`,
    /// waits a moment for the broker to take it, and disconnects.
    public func run() async throws {
        try await attempt(restart: false)
        logger.info(
            "MQTT publishing",
            metadata: [
                "mqtt.broker": "\(broker)", "mqtt.node": "\(node)", "mqtt.availability": "\(availabilityTopic)",
                "devices": "\(devices.count)",
            ]
        )
        var disconnectedTicks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) }
            } catch {
                break
            }
            disconnectedTicks = isConnected ? 0 : disconnectedTicks + 1
            if disconnectedTicks > 0 {
                notices.log(
                    .warning,
                    key: "down",
                    "MQTT broker not connected; retrying, the newest state of each meter is published when it is back",
                    metadata: ["mqtt.broker": "\(broker)"]
                )
            }
            // Every minute without a connection, a fresh start of the client.
            if disconnectedTicks > 0, disconnectedTicks % 12 == 0 { try await attempt(restart: true) }
            notices.flush()
        }
        await stop()
    }

    /// Starts (or restarts) the client on a thread of its own: the first connection attempt
    /// looks the host name up, which blocks.
    private func attempt(restart: Bool) async throws {
        let connection = self.connection
        let result: Result<String?, MQTTError> = await withCheckedContinuation { done in
            Thread.detachNewThread {
                done.resume(
                    returning: Result { () throws(MQTTError) in
                        try restart ? connection.restart() : connection.start()
                    }
                )
            }
        }
        if let failure = try result.get() {
            notices.log(
                .warning,
                key: "down",
                "MQTT broker not reachable (\(failure)); retrying, the newest state of each meter is published when it is back",
                metadata: ["mqtt.broker": "\(broker)"]
            )
        }
    }

    /// Publishes `offline`, waits up to `patience` for the broker's acknowledgement, disconnects.
    func stop(patience: Duration = .seconds(2)) async {
        let mid: Int32? = lock.withLock {
            guard connected else { return nil }
            offlineMessage = connection.publish(
                topic: availabilityTopic,
                payload: Array("offline".utf8),
                qos: 1,
                retain: true
            )
            return offlineMessage
        }
        if mid != nil {
            let deadline = ContinuousClock.now + patience
            while ContinuousClock.now < deadline, !lock.withLock({ offlineAcknowledged }) {
                // A cancelled task does not sleep: then wait on the thread, briefly.
                if (try? await Task.sleep(for: .milliseconds(20))) == nil { usleep(20_000) }
            }
        }
        connection.close()
        notices.flush()
        logger.info("MQTT publishing stopped", metadata: ["mqtt.broker": "\(broker)"])
    }

    /// Drops the connection without a DISCONNECT, as a crash would (the broker publishes the
    /// will); the client reconnects. For tests.
    package func dropConnection() { connection.dropConnection() }

    // MARK: the network thread's callbacks

    private func didConnect(_ rc: Int32) {
        guard rc == 0 else {
            notices.log(
                .error,
                key: "refused \(rc)",
                "MQTT broker refused the connection: \(MQTTConnection.connackText(rc)); check --mqtt's user and --mqtt-password-file",
                metadata: ["mqtt.broker": "\(broker)"]
            )
            return
        }
        let count = lock.withLock {
            connected = true
            connections += 1
            publishAcknowledgedLocked(topic: availabilityTopic, payload: Array("online".utf8))
            connection.subscribe(Self.statusTopic)
            announceLocked()
            return connections
        }
        logger.info(
            count == 1 ? "MQTT connected" : "MQTT reconnected",
            metadata: ["mqtt.broker": "\(broker)", "mqtt.node": "\(node)"]
        )
    }

    private func didDisconnect(_ rc: Int32) {
        lock.withLock { connected = false }
        guard rc != 0 else { return }
        notices.log(
            .warning,
            key: "lost",
            "MQTT connection lost; reconnecting",
            metadata: ["mqtt.broker": "\(broker)", "error": "\(MQTTConnection.errorText(rc))"]
        )
    }

    private func received(topic: String, payload: [UInt8]) {
        guard topic == Self.statusTopic, String(decoding: payload, as: UTF8.self) == "online" else { return }
        lock.withLock {
            guard connected else { return }
            announceLocked()
        }
        logger.info("Home Assistant is online: discovery published again", metadata: ["mqtt.node": "\(node)"])
    }

    private func didPublish(_ mid: Int32) {
        lock.withLock {
            unacknowledged.remove(mid)
            if mid == offlineMessage { offlineAcknowledged = true }
        }
    }

    /// Whether the broker has acknowledged every availability and discovery message published
    /// so far: then a dropped connection has nothing to resend. For tests.
    package var everythingAcknowledged: Bool { lock.withLock { unacknowledged.isEmpty } }

    /// Publishes retained at QoS 1 and remembers the id until the broker acknowledges it. Holding `lock`.
    private func publishAcknowledgedLocked(topic: String, payload: [UInt8]) {
        if let mid = connection.publish(topic: topic, payload: payload, qos: 1, retain: true) {
            unacknowledged.insert(mid)
        }
    }

    /// Publishes every discovery config, then every kept state. Holding `lock`.
    private func announceLocked() {
        for config in discovery {
            publishAcknowledgedLocked(topic: config.topic, payload: config.payload)
        }
        for (topic, message) in latest.all {
            connection.publish(topic: topic, payload: message.payload, retain: message.retain)
        }
    }

    private static func isTopicSafe(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-")
            }
    }
}

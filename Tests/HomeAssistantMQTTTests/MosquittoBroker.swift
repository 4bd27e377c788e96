import Foundation
import GridTLS
import TestSupport

@testable import HomeAssistantMQTT

/// A real `mosquitto` broker on 127.0.0.1 at a free port, in a temporary directory;
/// `stop()` ends it (and `cleanup()` removes the directory). Without persistence: a
/// restarted broker holds no retained messages.
final class MosquittoBroker: @unchecked Sendable {
    let directory: TempDir
    let port: Int
    private var process: SpawnedProcess?

    let tls: Bool

    /// - Parameters:
    ///   - users: with users, only they may log in (name and password).
    ///   - tls: TLS only, with a self-signed certificate for 127.0.0.1 (`broker` trusts it).
    init(users: [String: String] = [:], tls: Bool = false) throws {
        directory = try TempDir(prefix: "gl-mosquitto")
        port = try LoopbackPort.free()
        self.tls = tls
        var config = "listener \(port) 127.0.0.1\n"
        if tls {
            let certificate = try SelfSignedCertificate(hostnames: ["127.0.0.1"], subject: "GridLedger test broker")
            try certificate.certificatePEM.write(toFile: directory.file("cert.pem"), atomically: true, encoding: .utf8)
            try certificate.privateKeyPEM.write(toFile: directory.file("key.pem"), atomically: true, encoding: .utf8)
            config += "certfile \(directory.file("cert.pem"))\nkeyfile \(directory.file("key.pem"))\n"
        }
        if users.isEmpty {
            config += "allow_anonymous true\n"
        } else {
            config += "allow_anonymous false\npassword_file \(directory.file("passwords"))\n"
            for (user, password) in users {
                let exists = FileManager.default.fileExists(atPath: directory.file("passwords"))
                let made = try SpawnedProcess.run(
                    "/usr/bin/mosquitto_passwd",
                    (exists ? ["-b"] : ["-c", "-b"]) + [directory.file("passwords"), user, password]
                )
                guard made.status == 0 else { throw BrokerExited(log: "mosquitto_passwd: \(made.output)") }
            }
        }
        // As root mosquitto drops to the `mosquitto` user unless told to stay.
        if getuid() == 0 { config += "user root\n" }
        try config.write(toFile: directory.file("mosquitto.conf"), atomically: true, encoding: .utf8)
    }

    var broker: MQTTBroker {
        var broker = MQTTBroker(host: "127.0.0.1", port: port, tls: tls, caFile: tls ? directory.file("cert.pem") : nil)
        broker.reconnectDelay = 1...1
        return broker
    }

    /// Starts the broker and waits until it accepts connections.
    func start() async throws {
        let process = try SpawnedProcess(
            "/usr/sbin/mosquitto",
            ["-c", directory.file("mosquitto.conf")],
            output: .file(directory.file("mosquitto.log"))
        )
        self.process = process
        try await waitUntil("mosquitto listening on \(port)", timeout: .seconds(10)) {
            guard process.isRunning else {
                throw BrokerExited(
                    log: (try? String(contentsOfFile: directory.file("mosquitto.log"), encoding: .utf8)) ?? ""
                )
            }
            return LoopbackPort.accepts(port)
        }
    }

    /// Ends the broker, as a crash would, and waits for it to exit.
    func stop() {
        guard let process, process.isRunning else { return }
        // SIGKILL: the test process blocks SIGTERM, and its children inherit the mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func cleanup() {
        stop()
        directory.cleanup()
    }

    struct BrokerExited: Error, CustomStringConvertible {
        let log: String
        var description: String { "mosquitto exited: \(log)" }
    }

}

/// A test's MQTT subscriber: libmosquitto through the same wrapper, subscribed to `#`,
/// keeping every message it receives.
final class Subscriber: @unchecked Sendable {
    struct Message: Sendable {
        var topic: String
        var payload: String
        var retained: Bool
    }

    private let connection: MQTTConnection
    private let lock = NSLock()
    private var received: [Message] = []
    private var subscribed = false

    init(broker: MQTTBroker) throws {
        connection = try MQTTConnection(clientID: "test-subscriber-\(UUID().uuidString.prefix(8))", broker: broker)
        var handlers = MQTTConnection.Handlers()
        handlers.connected = { [weak self] rc in
            if rc == 0 { self?.connection.subscribe("#") }
        }
        handlers.subscribed = { [weak self] _ in
            self?.lock.withLock { self?.subscribed = true }
        }
        handlers.message = { [weak self] topic, payload, retained in
            let message = Message(topic: topic, payload: String(decoding: payload, as: UTF8.self), retained: retained)
            self?.lock.withLock { self?.received.append(message) }
        }
        connection.setHandlers(handlers)
    }

    func start() async throws {
        try connection.start()
        try await waitUntil("subscriber subscribed") { lock.withLock { subscribed } }
    }

    var messages: [Message] { lock.withLock { received } }

    func messages(on topic: String) -> [Message] { messages.filter { $0.topic == topic } }

    func clear() { lock.withLock { received.removeAll() } }

    func publish(_ topic: String, _ payload: String) {
        connection.publish(topic: topic, payload: Array(payload.utf8), retain: false)
    }

    func close() { connection.close() }
}

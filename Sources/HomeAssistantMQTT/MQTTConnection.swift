internal import CMosquitto
import Foundation

/// One libmosquitto client: a C handle, its network thread (`mosquitto_loop_start`) and the
/// callbacks that thread calls. libmosquitto reconnects by itself, with backoff, until
/// `close()`; `publish` and `subscribe` only queue and never wait for the network.
///
/// Used by `HomeAssistantPublisher`, and by the tests as their subscriber.
package final class MQTTConnection: @unchecked Sendable {
    /// What the network thread reports. Set before `start()`.
    package struct Handlers: Sendable {
        /// A CONNACK: 0 when connected, otherwise the broker's refusal (`connackText`).
        package var connected: @Sendable (Int32) -> Void = { _ in }
        /// The connection is gone: 0 after `close()`, otherwise unexpected.
        package var disconnected: @Sendable (Int32) -> Void = { _ in }
        /// A message on a subscribed topic: topic, payload, retained.
        package var message: @Sendable (String, [UInt8], Bool) -> Void = { _, _, _ in }
        /// A SUBACK for a `subscribe` call's message id.
        package var subscribed: @Sendable (Int32) -> Void = { _ in }
        /// A QoS 1 message's PUBACK (or a QoS 0 message sent), by message id.
        package var published: @Sendable (Int32) -> Void = { _ in }
        /// libmosquitto's own error and warning lines, e.g. why a TLS handshake failed.
        package var problem: @Sendable (String) -> Void = { _ in }

        package init() {}
    }

    private static let libraryInitialised: Void = { mosquitto_lib_init() }()

    private let handle: OpaquePointer
    private let broker: MQTTBroker
    private let lock = NSLock()
    private var handlers = Handlers()
    private var started = false

    /// A client named `clientID` for `broker`, with `will` as its last will (published by the
    /// broker, retained, when the connection drops without a DISCONNECT).
    /// - Throws: `MQTTError` when libmosquitto refuses a setting, e.g. a CA file it cannot read.
    package init(clientID: String, broker: MQTTBroker, will: (topic: String, payload: String)? = nil) throws(MQTTError)
    {
        _ = Self.libraryInitialised
        guard let handle = mosquitto_new(clientID, true, nil) else {
            throw .library(call: "mosquitto_new", code: Int32(errno), message: String(cString: strerror(errno)))
        }
        self.handle = handle
        self.broker = broker
        // From here a throw runs deinit, which destroys the handle.
        do {
            try check(
                "mosquitto_int_option(protocol)",
                mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
            )
            if let will {
                let payload = Array(will.payload.utf8)
                try check(
                    "mosquitto_will_set",
                    mosquitto_will_set(handle, will.topic, Int32(payload.count), payload, 1, true)
                )
            }
            if broker.username != nil || broker.password != nil {
                try check(
                    "mosquitto_username_pw_set",
                    mosquitto_username_pw_set(handle, broker.username ?? "", broker.password)
                )
            }
            if broker.tls {
                if let caFile = broker.caFile {
                    guard FileManager.default.isReadableFile(atPath: caFile) else {
                        throw MQTTError.setting(
                            "--mqtt-ca \(caFile): no such readable file; give the PEM file of the CA that signed the broker's certificate"
                        )
                    }
                    try check("mosquitto_tls_set", mosquitto_tls_set(handle, caFile, nil, nil, nil, nil))
                } else {
                    try check(
                        "mosquitto_int_option(os certs)",
                        mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1)
                    )
                }
            }
            try check(
                "mosquitto_reconnect_delay_set",
                mosquitto_reconnect_delay_set(
                    handle,
                    UInt32(broker.reconnectDelay.lowerBound),
                    UInt32(broker.reconnectDelay.upperBound),
                    true
                )
            )
        } catch let error as MQTTError {
            throw error
        } catch {
            throw .setting("\(error)")
        }
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_connect_callback_set(handle) { _, context, rc in
            MQTTConnection.from(context)?.currentHandlers.connected(rc)
        }
        mosquitto_disconnect_callback_set(handle) { _, context, rc in
            MQTTConnection.from(context)?.currentHandlers.disconnected(rc)
        }
        mosquitto_subscribe_callback_set(handle) { _, context, mid, _, _ in
            MQTTConnection.from(context)?.currentHandlers.subscribed(mid)
        }
        mosquitto_publish_callback_set(handle) { _, context, mid in
            MQTTConnection.from(context)?.currentHandlers.published(mid)
        }
        mosquitto_log_callback_set(handle) { _, context, level, text in
            guard level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text else { return }
            MQTTConnection.from(context)?.currentHandlers.problem(String(cString: text))
        }
        mosquitto_message_callback_set(handle) { _, context, message in
            guard let connection = MQTTConnection.from(context), let message = message?.pointee,
                let topic = message.topic.map({ String(cString: $0) })
            else { return }
            var payload: [UInt8] = []
            if let bytes = message.payload, message.payloadlen > 0 {
                payload = Array(UnsafeRawBufferPointer(start: bytes, count: Int(message.payloadlen)))
            }
            connection.currentHandlers.message(topic, payload, message.retain)
        }
    }

    deinit {
        close()
        mosquitto_destroy(handle)
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> MQTTConnection? {
        context.map { Unmanaged<MQTTConnection>.fromOpaque($0).takeUnretainedValue() }
    }

    private var currentHandlers: Handlers { lock.withLock { handlers } }

    /// Sets what the network thread calls; before `start()`.
    package func setHandlers(_ handlers: Handlers) { lock.withLock { self.handlers = handlers } }

    /// Starts the first connection attempt and the network thread. A broker that is down or
    /// a host name that does not resolve (yet) is not an error: the thread keeps trying with
    /// backoff. Blocks for the name lookup: call it off the cooperative pool.
    /// - Returns: libmosquitto's text for the first attempt's failure, or nil.
    @discardableResult
    package func start() throws(MQTTError) -> String? {
        let first = lock.withLock {
            defer { started = true }
            return !started
        }
        guard first else { return nil }
        let rc = mosquitto_connect_async(handle, broker.host, Int32(broker.port), Int32(broker.keepAlive))
        try check("mosquitto_loop_start", mosquitto_loop_start(handle))
        return rc == MOSQ_ERR_SUCCESS.rawValue ? nil : Self.errorText(rc)
    }

    /// Stops the network thread (whatever state it is in) and starts afresh: libmosquitto's
    /// thread gives up for good on some errors (a failed TLS handshake), so a client that
    /// stays disconnected is restarted now and then. Blocks: call it off the cooperative pool.
    @discardableResult
    package func restart() throws(MQTTError) -> String? {
        close()
        return try start()
    }

    /// Queues `payload` for `topic`; returns the message id, or nil when not connected
    /// (QoS 0 is then not queued at all). Never waits for the network.
    @discardableResult
    package func publish(topic: String, payload: [UInt8], qos: Int32 = 0, retain: Bool) -> Int32? {
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { bytes in
            mosquitto_publish(handle, &mid, topic, Int32(bytes.count), bytes.baseAddress, qos, retain)
        }
        return rc == MOSQ_ERR_SUCCESS.rawValue ? mid : nil
    }

    /// Subscribes to `pattern`; returns the message id the SUBACK will carry, or nil when not connected.
    @discardableResult
    package func subscribe(_ pattern: String, qos: Int32 = 0) -> Int32? {
        var mid: Int32 = 0
        let rc = mosquitto_subscribe(handle, &mid, pattern, qos)
        return rc == MOSQ_ERR_SUCCESS.rawValue ? mid : nil
    }

    /// Sends DISCONNECT (no last will) and stops the network thread. Idempotent.
    package func close() {
        let wasStarted = lock.withLock {
            defer { started = false }
            return started
        }
        guard wasStarted else { return }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
    }

    /// Drops the TCP connection without a DISCONNECT, as a crash or a pulled cable would:
    /// the broker publishes the last will, and the network thread reconnects. For tests.
    package func dropConnection() {
        let socket = mosquitto_socket(handle)
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// The broker's reason for a CONNACK refusal.
    package static func connackText(_ code: Int32) -> String { String(cString: mosquitto_connack_string(code)) }

    /// libmosquitto's text for an error number.
    package static func errorText(_ code: Int32) -> String { String(cString: mosquitto_strerror(code)) }

    private func check(_ call: String, _ rc: Int32) throws(MQTTError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        throw .library(call: call, code: rc, message: Self.errorText(rc))
    }
}

import Foundation

/// Where the MQTT broker is and how to log in: from `mqtt://[user:pass@]host[:port]` or
/// `mqtts://…`, with the user name, password and CA file given beside it.
public struct MQTTBroker: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// TLS (`mqtts://`): the broker's certificate is checked against `caFile`, or the
    /// system's CA certificates without one.
    public var tls: Bool
    public var caFile: String?
    public var username: String?
    public var password: String?
    /// Seconds between keep-alive pings; the broker publishes the last will after 1.5 times this.
    public var keepAlive: Int = 30
    /// Seconds before reconnecting: doubling from the first to the second after each failure.
    public var reconnectDelay: ClosedRange<Int> = 1...30

    public init(
        host: String,
        port: Int,
        tls: Bool = false,
        caFile: String? = nil,
        username: String? = nil,
        password: String? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.username = username
        self.password = password
    }

    /// Parses `mqtt://[user[:password]@]host[:port]` (port 1883) or `mqtts://…` (port 8883).
    /// - Throws: `MQTTError.badURL` with one line that says what is wrong.
    public init(url text: String) throws(MQTTError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw .badURL("MQTT URL '\(text)' is not a URL; give mqtt://host:1883 or mqtts://host:8883")
        }
        guard scheme == "mqtt" || scheme == "mqtts" else {
            throw .badURL("MQTT URL '\(text)' has scheme '\(scheme)'; give mqtt://host:1883 or mqtts://host:8883")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .badURL("MQTT URL '\(text)' names no host; give mqtt://host:1883")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw .badURL("MQTT URL '\(text)' has a path or query; give only mqtt://host:port")
        }
        let port = components.port ?? (scheme == "mqtts" ? 8883 : 1883)
        guard (1...65535).contains(port) else {
            throw .badURL("MQTT URL '\(text)': port \(port) is not 1 to 65535")
        }
        self.init(
            host: host,
            port: port,
            tls: scheme == "mqtts",
            username: components.user?.removingPercentEncoding,
            password: components.password?.removingPercentEncoding
        )
    }
}

extension MQTTBroker: CustomStringConvertible {
    /// The broker without its password, for logs.
    public var description: String {
        "\(tls ? "mqtts" : "mqtt")://\(username.map { "\($0)@" } ?? "")\(host):\(port)"
    }
}

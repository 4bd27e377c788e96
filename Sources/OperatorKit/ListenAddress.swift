import ArgumentParser

/// `host:port` for --listen.
public struct ListenAddress: ExpressibleByArgument, Sendable, CustomStringConvertible {
    /// Host name or address (without brackets).
    public var host: String
    /// Port; 0 picks a free one.
    public var port: Int

    public init?(argument: String) {
        let host: Substring
        let port: Substring
        if argument.hasPrefix("[") {
            guard let close = argument.firstIndex(of: "]") else { return nil }
            host = argument[argument.index(after: argument.startIndex)..<close]
            let rest = argument[argument.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = argument.lastIndex(of: ":") else { return nil }
            host = argument[..<colon]
            port = argument[argument.index(after: colon)...]
        }
        guard !host.isEmpty, let p = Int(port), (0...65535).contains(p) else { return nil }
        self.host = String(host)
        self.port = p
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// True for a loopback address (127.0.0.0/8, ::1, localhost): only this machine reaches it.
    public var isLoopback: Bool { LoopbackAddress.contains(host) }

    /// The URL clients use for a bound port.
    /// - Parameter scheme: `http`, or `https` for a server speaking TLS.
    public func url(port: Int, scheme: String = "http") -> String {
        let h: String
        switch host {
        case "0.0.0.0": h = "127.0.0.1"
        case "::": h = "[::1]"
        default: h = host.contains(":") ? "[\(host)]" : host
        }
        return "\(scheme)://\(h):\(port)"
    }
}

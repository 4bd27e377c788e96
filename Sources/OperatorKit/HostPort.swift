import ArgumentParser

/// `HOST:PORT`, with IPv6 hosts in brackets (`[::1]:502`).
public struct HostPort: Hashable, Sendable {
    /// The host name or address (without brackets for IPv6).
    public let host: String
    /// The TCP port, 0 to 65535.
    public let port: Int

    /// Parses `HOST:PORT` or `[IPv6]:PORT`; the error names `flag`.
    public init(parsing text: String, flag: String) throws {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            port = text[close...].dropFirst(2)
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            throw ValidationError("\(flag) '\(text)' needs HOST:PORT, e.g. 127.0.0.1:5020")
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw ValidationError("\(flag) '\(text)' needs HOST:PORT with a port from 0 to 65535, e.g. 127.0.0.1:5020")
        }
        self.host = String(host)
        self.port = number
    }
}

/// A client connection the TCP server closed, or turned away, on its own initiative.
public struct DroppedConnection: Sendable, Hashable, CustomStringConvertible {
    /// Why the server let the client go.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// Connected, and sent no request for the idle timeout.
        case idle = "idle"
        /// Sent part of a request, and not the rest within the idle timeout.
        case stalledFrame = "stalled-frame"
        /// Sent bytes that cannot start a Modbus TCP frame (protocol id not 0, bad length).
        case invalidHeader = "invalid-header"
        /// Connected while the server already served as many clients as it takes.
        case tooManyClients = "too-many-clients"
    }

    /// Why the server let the client go.
    public var reason: Reason
    /// The client's address, `HOST:PORT` (`[HOST]:PORT` for IPv6).
    public var peer: String
    /// Bytes of an unfinished request the server discarded.
    public var pendingBytes: Int

    public init(reason: Reason, peer: String, pendingBytes: Int = 0) {
        self.reason = reason
        self.peer = peer
        self.pendingBytes = pendingBytes
    }

    public var description: String {
        switch reason {
        case .idle: "closed idle connection from \(peer)"
        case .stalledFrame: "closed connection from \(peer): \(pendingBytes) bytes of a request, then silence"
        case .invalidHeader: "closed connection from \(peer): not a Modbus TCP frame"
        case .tooManyClients: "turned away \(peer): too many clients"
        }
    }
}

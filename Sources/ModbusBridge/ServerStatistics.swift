/// What a server has seen and done.
public struct ServerStatistics: Sendable, Hashable {
    /// Requests addressed to a served unit.
    public var requests = 0
    /// Answers sent (faulty ones included).
    public var replies = 0
    /// Requests for units this server does not serve, left unanswered as on a real bus.
    public var ignored = 0
    /// Broadcasts (unit 0), applied to every unit and never answered.
    public var broadcasts = 0
    /// Requests rejected by libmodbus (bad CRC, bad length), left unanswered.
    public var rejected = 0
    /// Requests refused with an exception by the unit's access rules (a function it does not
    /// implement, a write to a read-only register), as the meter's firmware refuses them.
    public var refused = 0
    /// Partial frames dropped after a silence (on TCP, with their connection), and TCP
    /// connections closed for a header that cannot start a frame.
    public var framingErrors = 0
    /// TCP connections accepted and served (turned-away ones not counted).
    public var connectionsAccepted = 0
    /// TCP connections closed because the client sent nothing for the idle timeout.
    public var idleConnectionsClosed = 0
    /// Faults injected.
    public var faultsInjected = 0
}

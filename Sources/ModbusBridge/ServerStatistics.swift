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
    /// Partial frames dropped after a silence.
    public var framingErrors = 0
    /// Faults injected.
    public var faultsInjected = 0
}

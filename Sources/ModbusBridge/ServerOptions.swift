import Logging

/// Options shared by the RTU and TCP servers.
public struct ServerOptions: Sendable {
    /// Faults injected into answers (none by default).
    public var faults: FaultInjection
    /// RTU only: hold each answer until the request, the 3.5-character frame gap and the
    /// answer would have crossed a real wire at the line's baud rate.
    public var wireTiming: Bool
    /// TCP only: a client that sends no request for this long, or leaves a request
    /// unfinished this long, is disconnected, so that silent clients cannot hold every
    /// connection the server takes. Nil keeps them for ever.
    public var idleTimeout: Duration?
    /// TCP only: told of every client the server disconnects or turns away on its own
    /// (`DroppedConnection`). Nil logs each at debug level (turned-away ones at warning).
    public var connectionDropped: (@Sendable (DroppedConnection) -> Void)?
    /// Units that take this long to answer (a slow meter): the server holds the line for the
    /// time, as a slow unit holds an RS-485 bus, then answers. For tests of per-unit timing.
    public var responseDelays: [UInt8: Duration]
    public var logger: Logger

    /// How long a TCP client may stay silent unless told otherwise.
    public static let defaultIdleTimeout: Duration = .seconds(60)

    public init(
        faults: FaultInjection = .none,
        wireTiming: Bool = false,
        idleTimeout: Duration? = ServerOptions.defaultIdleTimeout,
        connectionDropped: (@Sendable (DroppedConnection) -> Void)? = nil,
        responseDelays: [UInt8: Duration] = [:],
        logger: Logger = Logger(label: "modbus.server")
    ) {
        self.responseDelays = responseDelays
        self.faults = faults
        self.wireTiming = wireTiming
        self.idleTimeout = idleTimeout
        self.connectionDropped = connectionDropped
        self.logger = logger
    }

    /// Reports `drop` to `connectionDropped`, or logs it.
    func report(_ drop: DroppedConnection) {
        if let connectionDropped {
            connectionDropped(drop)
            return
        }
        let level: Logger.Level = drop.reason == .tooManyClients ? .warning : .debug
        logger.log(
            level: level,
            "\(drop.description)",
            metadata: ["modbus.peer": "\(drop.peer)", "reason": "\(drop.reason.rawValue)"]
        )
    }
}

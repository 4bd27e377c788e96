import Logging

/// Options shared by the RTU and TCP servers.
public struct ServerOptions: Sendable {
    /// Faults injected into answers (none by default).
    public var faults: FaultInjection
    /// RTU only: hold each answer until the request, the 3.5-character frame gap and the
    /// answer would have crossed a real wire at the line's baud rate.
    public var wireTiming: Bool
    public var logger: Logger

    public init(
        faults: FaultInjection = .none,
        wireTiming: Bool = false,
        logger: Logger = Logger(label: "modbus.server")
    ) {
        self.faults = faults
        self.wireTiming = wireTiming
        self.logger = logger
    }
}

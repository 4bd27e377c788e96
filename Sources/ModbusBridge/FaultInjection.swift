/// A misbehaviour a server can show on purpose, for testing clients.
public enum Fault: Sendable, Hashable, CustomStringConvertible {
    /// The request is ignored, as if it never arrived.
    case noReply
    /// The answer's CRC is damaged (on TCP, which has no CRC, its transaction id).
    case corruptFrame
    /// The answer comes late.
    case delay(Duration)
    /// The answer is this Modbus exception.
    case exception(ModbusException)

    public var description: String {
        switch self {
        case .noReply: "no-reply"
        case .corruptFrame: "corrupt"
        case .delay(let duration): "delay(\(duration))"
        case .exception(let exception): "exception(\(exception.rawValue))"
        }
    }
}

/// Which faults a server injects, and how often. Deterministic for a given seed.
public struct FaultInjection: Sendable, Hashable {
    /// Probability (0…1) that a request gets a fault.
    public var rate: Double
    /// The faults to choose from, uniformly.
    public var faults: [Fault]
    /// Seed of the generator that decides.
    public var seed: UInt64

    public init(rate: Double, faults: [Fault], seed: UInt64 = 1) {
        self.rate = min(1, max(0, rate))
        self.faults = faults
        self.seed = seed
    }

    /// No faults.
    public static let none = FaultInjection(rate: 0, faults: [])
}

/// Draws faults for a FaultInjection, one request at a time.
struct FaultDrawer {
    private var generator: SplitMix64
    let injection: FaultInjection

    init(_ injection: FaultInjection) {
        self.injection = injection
        self.generator = SplitMix64(seed: injection.seed)
    }

    mutating func next() -> Fault? {
        guard injection.rate > 0, !injection.faults.isEmpty else { return nil }
        guard Double.random(in: 0..<1, using: &generator) < injection.rate else { return nil }
        return injection.faults.randomElement(using: &generator)
    }
}

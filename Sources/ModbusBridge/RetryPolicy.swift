/// How a client retries an exchange that failed for a transient reason
/// (timeout, bad CRC or frame, lost connection, busy server).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included (1 = no retry).
    public var maxAttempts: Int
    /// Wait before the first retry.
    public var initialBackoff: Duration
    /// Each further wait is the previous one times this.
    public var multiplier: Double
    /// Upper bound of one wait.
    public var maxBackoff: Duration

    public init(
        maxAttempts: Int = 3,
        initialBackoff: Duration = .milliseconds(50),
        multiplier: Double = 2,
        maxBackoff: Duration = .seconds(2)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maxBackoff = maxBackoff
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait after failed attempt number `attempt` (1-based).
    public func backoff(afterAttempt attempt: Int) -> Duration {
        var wait = initialBackoff
        for _ in 1..<max(1, attempt) {
            wait = wait * multiplier
            if wait >= maxBackoff { return maxBackoff }
        }
        return min(wait, maxBackoff)
    }
}

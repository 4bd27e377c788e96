import Synchronization

/// A clock tests move by hand, in ms since the Unix epoch.
package final class TestClock: Sendable {
    private let value: Mutex<Int64>

    /// Starts at `start` (default 2026-01-01T00:00:00Z).
    package init(_ start: Int64 = TestKeys.baseTime) { value = Mutex(start) }

    /// The current time.
    package var now: Int64 { value.withLock { $0 } }

    /// Moves the clock forward by `ms`.
    package func advance(ms: Int64) { value.withLock { $0 += ms } }

    /// The clock as the closure the gateway and the super node take.
    package var function: @Sendable () -> Int64 { { self.now } }
}

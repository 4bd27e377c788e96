import Foundation

/// Waits until `condition` holds, checking every 100 ms, up to `timeout`.
/// - Parameter observed: what the test saw instead, named in the error when the time is up.
/// - Throws: `TimedOut` naming `what` (and what was observed) when the time is up.
package func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    observed: (() -> String)? = nil,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what, observed: observed?()) }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// A wait that ran out of time.
package struct TimedOut: Error, CustomStringConvertible {
    /// What was waited for.
    package let what: String
    /// What was seen instead, when the waiter said.
    package let observed: String?

    package init(what: String, observed: String? = nil) {
        self.what = what
        self.observed = observed
    }

    package var description: String {
        "timed out waiting for \(what)" + (observed.map { "; observed: \($0)" } ?? "")
    }
}

/// Runs blocking work (a child process to its end, SQLite, a long verification) on a thread
/// of its own and waits for it without holding one of the cooperative pool's threads: the
/// pool has two on these machines, and every test's servers need them.
package func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { done in
        Thread.detachNewThread { done.resume(with: Result { try work() }) }
    }
}

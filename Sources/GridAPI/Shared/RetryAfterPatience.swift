import Foundation

/// How a command a person runs honours `Retry-After`: when the server asks it to wait (429),
/// it waits as asked and sends again, if the wait is at most `patience`, up to `attempts`
/// calls in all; a longer wait is the caller's error to show. Long-running clients (the
/// agent's forwarder, the uplink) have their own loops and wait however long they are told.
package struct RetryAfterPatience: Sendable {
    package var attempts: Int
    package var patience: Duration

    package init(attempts: Int = 3, patience: Duration = .seconds(30)) {
        self.attempts = attempts
        self.patience = patience
    }

    /// Calls `call` until it succeeds, fails for another reason, or asks for a wait beyond
    /// patience; `waiting` is told each wait before it starts (by default, one line on
    /// standard error tells the user).
    package func run<T, E: Error>(
        _ call: () async throws(E) -> T,
        retryAfter: (E) -> Duration?,
        waiting: (Duration) -> Void = RetryAfterPatience.tellStandardError
    ) async throws(E) -> T {
        var attempt = 1
        while true {
            do {
                return try await call()
            } catch {
                guard attempt < attempts, let wait = retryAfter(error), wait <= patience else { throw error }
                waiting(wait)
                try? await Task.sleep(for: wait)
                attempt += 1
            }
        }
    }

    /// One line on standard error: how long the command waits, and why.
    package static func tellStandardError(_ wait: Duration) {
        FileHandle.standardError.write(
            Data("the server asked to retry after \(wait.components.seconds) s (HTTP 429); waiting\n".utf8)
        )
    }
}

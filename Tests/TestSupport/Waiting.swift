/// Waits until `condition` holds, checking every 100 ms, up to `timeout`.
/// - Throws: `TimedOut` naming `what` when the time is up.
package func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(20),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// A wait that ran out of time.
package struct TimedOut: Error, CustomStringConvertible {
    /// What was waited for.
    package let what: String

    package init(what: String) { self.what = what }
    package var description: String { "timed out waiting for \(what)" }
}

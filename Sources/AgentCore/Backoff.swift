/// Exponential backoff with jitter (each wait is half to all of the current step), so
/// many agents retrying after an outage do not arrive in lock-step.
package struct Backoff: Sendable {
    package let initial: Duration
    package let maximum: Duration
    private var attempt = 0
    private var generator = SystemRandomNumberGenerator()

    package init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    package mutating func next() -> Duration {
        let ceiling = min(maximum, initial * Double(1 << min(attempt, 20)))
        attempt += 1
        let fraction = Double.random(in: 0.5...1, using: &generator)
        return ceiling * fraction
    }

    package mutating func reset() {
        attempt = 0
    }
}

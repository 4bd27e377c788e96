import Foundation

/// Simulated time: starts at `start` and runs `speed` times faster than the wall clock.
/// Speed 0 freezes it at `start`, so repeated reads give identical values.
package struct SimulatedClock: Sendable {
    package let start: Date
    package let speed: Double
    private let wallStart: ContinuousClock.Instant

    package init(start: Date, speed: Double) {
        self.start = start
        self.speed = speed
        self.wallStart = .now
    }

    package var now: Date {
        let elapsed = ContinuousClock.now - wallStart
        let (seconds, attoseconds) = elapsed.components
        return start.addingTimeInterval((Double(seconds) + Double(attoseconds) / 1e18) * speed)
    }
}

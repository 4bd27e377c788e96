import Logging
import ServiceLifecycle

/// Moves every meter's simulation along with the simulated clock, ten times a second.
package struct SimulationService: Service {
    package let meters: [EmulatedMeter]
    package let clock: SimulatedClock
    package let logger: Logger

    package func run() async throws {
        guard clock.speed > 0 else {
            // A frozen clock: the values published at start-up stay as they are.
            try await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now
            for meter in meters {
                try meter.update(to: now)
            }
            do {
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                return  // cancelled: shutting down
            }
        }
    }
}

import Logging
import ModbusBridge
import OperatorKit
import ServiceLifecycle

/// Logs the clients the emulator's TCP servers disconnect or turn away, rate-limited per
/// reason: a client reconnecting in a loop to sit idle cannot flood the log, and each kind of
/// drop still shows at least once per window.
package final class ConnectionDropLog: Sendable {
    private let log: RateLimitedLog

    package init(logger: Logger, interval: Duration = .seconds(10)) {
        self.log = RateLimitedLog(logger: logger, interval: interval)
    }

    /// Logs `drop` (at info; a client turned away for lack of room at warning).
    package func record(_ drop: DroppedConnection) {
        log.log(
            drop.reason == .tooManyClients ? .warning : .info,
            key: drop.reason.rawValue,
            drop.description,
            metadata: [
                "modbus.peer": "\(drop.peer)", "reason": "\(drop.reason.rawValue)",
                "pending_bytes": "\(drop.pendingBytes)",
            ]
        )
    }

    /// Writes the summary of every burst whose window has passed.
    package func flush() {
        log.flush()
    }
}

/// Flushes a `ConnectionDropLog` every few seconds, so a burst's summary appears even when
/// the burst stops.
package struct DropLogFlusher: Service {
    package let drops: ConnectionDropLog

    package func run() async throws {
        defer { drops.flush() }
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .seconds(5))
                } catch {
                    return  // cancelled: shutting down
                }
                drops.flush()
            }
        }
    }
}

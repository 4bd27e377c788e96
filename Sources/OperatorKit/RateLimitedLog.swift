import Foundation
import Logging

/// Logs a message the first time its key is seen in a window, then only counts repeats;
/// when the window has passed, one line says how often it repeated:
/// `rejected reading … (repeated 57 times in the last 10s)`.
///
/// Keys are chosen by the caller, e.g. `"\(meter)|\(reason)"`, so one noisy meter cannot
/// drown the log while every distinct problem still shows at least once. Call `flush()`
/// from a periodic task so the summary of a burst appears even when the burst stops.
public final class RateLimitedLog: @unchecked Sendable {
    private struct Window {
        var started: ContinuousClock.Instant
        var suppressed: Int
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let logger: Logger
    private let interval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let lock = NSLock()
    private var windows: [String: Window] = [:]

    /// - Parameters:
    ///   - interval: the window; repeats within it are counted, not logged.
    ///   - now: the clock (tests pass their own).
    public init(
        logger: Logger,
        interval: Duration = .seconds(10),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.logger = logger
        self.interval = interval
        self.now = now
    }

    /// Logs `message` unless the same key was logged within the window (then counts it).
    public func log(_ level: Logger.Level, key: String, _ message: String, metadata: Logger.Metadata = [:]) {
        let t = now()
        var lines: [(Logger.Level, String, Logger.Metadata)] = []
        lock.withLock {
            if var w = windows[key], t - w.started < interval {
                w.suppressed += 1
                w.level = level
                w.message = message
                w.metadata = metadata
                windows[key] = w
                return
            }
            if let w = windows[key], w.suppressed > 0 {
                lines.append(summary(w))
            }
            windows[key] = Window(started: t, suppressed: 0, level: level, message: message, metadata: metadata)
            lines.append((level, message, metadata))
        }
        for (level, message, metadata) in lines {
            logger.log(level: level, "\(message)", metadata: metadata)
        }
    }

    /// Writes the summary line of every window that has passed and forgets it.
    public func flush() {
        let t = now()
        var lines: [(Logger.Level, String, Logger.Metadata)] = []
        lock.withLock {
            for (key, w) in windows where t - w.started >= interval {
                if w.suppressed > 0 { lines.append(summary(w)) }
                windows[key] = nil
            }
        }
        for (level, message, metadata) in lines {
            logger.log(level: level, "\(message)", metadata: metadata)
        }
    }

    private func summary(_ w: Window) -> (Logger.Level, String, Logger.Metadata) {
        var metadata = w.metadata
        metadata["repeats"] = "\(w.suppressed)"
        let seconds = interval.components.seconds
        let times = w.suppressed == 1 ? "once more" : "\(w.suppressed) times"
        return (w.level, "\(w.message) (repeated \(times) in the last \(seconds)s)", metadata)
    }
}

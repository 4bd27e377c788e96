/// Whether each meter of a bus is polled within its interval.
///
/// A poll is late when it begins more than the interval, plus a grace of a tenth of it (for
/// the scheduler's jitter), after the same meter's previous poll began: the meter's interval
/// was missed, e.g. because the round before took longer than the interval, or a slow or
/// silent meter ahead of it held up the bus. Value type, one per bus poller.
package struct PollSchedule: Sendable {
    /// The interval each meter should be polled at.
    package let interval: Duration
    /// How far past the interval a poll may begin before it counts as late.
    package let grace: Duration
    /// Polls begun.
    package private(set) var polls = 0
    /// Polls begun late.
    package private(set) var latePolls = 0
    /// The latest any poll began beyond its meter's interval.
    package private(set) var worstDelay: Duration = .zero
    private var lastStart: [ContinuousClock.Instant?]

    package init(interval: Duration, meters: Int) {
        self.interval = interval
        self.grace = interval / 10
        self.lastStart = Array(repeating: nil, count: meters)
    }

    /// Records that meter number `index` is polled at `now`; returns how long after its due
    /// time the poll begins when it is late, nil when it is on time (or the meter's first).
    package mutating func begin(meter index: Int, at now: ContinuousClock.Instant) -> Duration? {
        polls += 1
        defer { lastStart[index] = now }
        guard let last = lastStart[index] else { return nil }
        let delay = now - (last + interval)
        guard delay > grace else { return nil }
        latePolls += 1
        worstDelay = max(worstDelay, delay)
        return delay
    }
}

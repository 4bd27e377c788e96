/// How far a time that another party states may be from a clock: the one rule both servers
/// judge stated times by. The gateway judges its meters' readings and requests by its own
/// clock (`ClockPolicy`, `edge-gateway serve --max-skew`); the super node judges a gateway's
/// request stamps and blocks by its own (5 minutes). Not a chain rule: the verdict depends on
/// the clock, so a replay of the chain cannot reach it again.
///
/// A stated time comes from the wire and may be any `Int64`: nothing here computes a
/// difference that can overflow.
package struct ClockWindow: Hashable, Sendable {
    /// How far a stated time may be from the clock, ms.
    package var milliseconds: Int64

    package init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// How far `time` is ahead of `clock`, ms, when that is more than the window; nil when
    /// it is not (a time behind the clock is never too far ahead).
    package func tooFarAhead(_ time: Int64, of clock: Int64) -> Int64? {
        let ahead = time.saturatingMinus(clock)
        return ahead > milliseconds ? ahead : nil
    }

    /// Whether `time` is within the window of `clock`, either way.
    package func contains(_ time: Int64, around clock: Int64) -> Bool {
        time.saturatingMinus(clock).magnitude <= UInt64(clamping: milliseconds)
    }
}

extension Int64 {
    /// `self - other`, held at `Int64.min` or `Int64.max` instead of overflowing.
    package func saturatingMinus(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }
}

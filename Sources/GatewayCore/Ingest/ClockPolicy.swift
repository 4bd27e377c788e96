import LedgerLite

/// When a meter's record may say it was made: the gateway's one rule for the timestamps of
/// readings and requests. A gateway policy, not a chain rule: it depends on the gateway's
/// clock, so a replay of the chain cannot decide it again.
///
/// A signed record may carry any `Int64`, so nothing here computes a difference that can
/// overflow (`ClockWindow`): a faulty meter must get a refusal, not crash the gateway.
package struct ClockPolicy: Sendable {
    /// 2020-01-01T00:00:00Z: no GridLedger meter signed anything earlier, and anything earlier
    /// is a meter whose clock was never set (or reset to 1970).
    package static let earliestMs: Int64 = 1_577_836_800_000
    /// How far a record's time may be ahead of the gateway's clock (and a reading behind its
    /// meter's previous one).
    package var maxSkewMs: Int64

    package init(maxSkewMs: Int64) { self.maxSkewMs = maxSkewMs }

    /// The skew as LedgerLite's one rule for stated times.
    private var window: ClockWindow { ClockWindow(milliseconds: maxSkewMs) }

    /// Why reading `r` is refused when it arrives at `now` after the meter's `previous`, or nil.
    package func refusal(ofReading r: Reading, previous: Reading?, now: Int64) -> String? {
        if r.timestamp < Self.earliestMs {
            return
                "timestamp \(r.timestamp) is before 2020-01-01 (\(Self.earliestMs)), earlier than any meter here can have signed; check the meter's clock"
        }
        if let ahead = window.tooFarAhead(r.timestamp, of: now) {
            return
                "timestamp \(r.timestamp) is \(ahead / 1000) s ahead of the gateway clock (allowed skew \(maxSkewMs / 1000) s); check the meter's clock, then send reading \(r.sequence) again with a correct time"
        }
        if let previous, let behind = window.tooFarAhead(previous.timestamp, of: r.timestamp) {
            return
                "timestamp \(r.timestamp) is \(behind / 1000) s before the meter's previous reading \(previous.sequence) (allowed skew \(maxSkewMs / 1000) s); check the meter's clock"
        }
        return nil
    }

    /// Why a request made at `time` is refused at `now`, or nil: it must be within the skew
    /// either way (a request is answered at once, never from a backlog).
    package func refusal(ofRequestAt time: Int64, now: Int64) -> String? {
        guard !window.contains(time, around: now) else { return nil }
        return
            "the request's time \(time) ms is \(time.saturatingMinus(now).magnitude / 1000) s from the gateway's clock (allowed skew \(maxSkewMs / 1000) s); check the meter's clock"
    }
}

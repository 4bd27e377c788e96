import Foundation

/// Sequence numbers of offers and requests: per meter strictly increasing, gaps allowed.
/// The default is the current Unix time in milliseconds, so that separate runs (and an
/// agent's automatic offers) never reuse a number as long as the clock does not go back.
package enum TradeSequence {
    package static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The Unix time in ms, or one more than `last` when the clock has not moved past it.
    package static func next(after last: UInt64?) -> UInt64 {
        let now = UInt64(max(1, nowMilliseconds()))
        guard let last else { return now }
        return max(now, last + 1)
    }
}

import LedgerLite

/// How long a window `GET /v1/fairness` scans: its cost is the dispatches in the window, so
/// the window has a default and a maximum length, never "since the chain began".
package enum FairnessWindowRule {
    /// The window when a bound is left out: the day before `until` (or before now).
    package static let defaultSpanMs: Int64 = 24 * 3_600_000
    /// The longest window one request may ask for.
    package static let maxSpanMs: Int64 = 31 * 24 * 3_600_000

    /// The window to scan for the query's bounds at gateway time `now`: `from` defaults to
    /// `defaultSpanMs` before `until` (or before `now`); `until` stays nil ("up to now,
    /// pending entries included") when absent.
    /// - Throws: `APIError` 400 when the window is longer than `maxSpanMs`.
    package static func window(from: Int64?, until: Int64?, now: Int64) throws -> (from: Int64, until: Int64?) {
        let end = until ?? now
        let start = from ?? end.saturatingMinus(defaultSpanMs)
        guard end.saturatingMinus(start) <= maxSpanMs else {
            throw APIError(
                .badRequest,
                "the window from \(start) until \(until.map(String.init) ?? "now") is longer than 31 days; ask for at most 31 days at a time (from and until)"
            )
        }
        return (start, until)
    }
}

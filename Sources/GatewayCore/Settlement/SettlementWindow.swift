import Foundation

/// What a settlement export covers: periods of equal length from `from` to `until`, each
/// starting on a multiple of its length since the Unix epoch, so on UTC boundaries (a
/// length that divides a day: 15 min periods start at :00, :15, :30 and :45 UTC).
package struct SettlementWindow: Sendable, Equatable {
    /// Shortest and longest period: a minute and a day.
    package static let minPeriodMs: Int64 = 60_000
    package static let maxPeriodMs: Int64 = 86_400_000
    /// The default period: 15 minutes, the usual settlement interval.
    package static let defaultPeriodMs: Int64 = 900_000
    /// Latest time a window may reach: 10000-01-01T00:00:00Z.
    package static let latestMs: Int64 = 253_402_300_800_000
    /// Most periods one export may span (over five years of 15 min periods).
    package static let maxPeriods: Int64 = 200_000

    /// First period's start (inclusive) and last period's end (exclusive), ms.
    package let from: Int64
    package let until: Int64
    package let periodMs: Int64

    /// - Throws: `SettlementError` when the period is not a whole number of seconds between
    ///   a minute and a day that divides a day, a bound is not on a period boundary or
    ///   before 1970 or after 9999, or the window is empty or spans more than `maxPeriods`.
    package init(from: Int64, until: Int64, periodMs: Int64 = defaultPeriodMs) throws(SettlementError) {
        guard periodMs >= Self.minPeriodMs, periodMs <= Self.maxPeriodMs, periodMs % 1000 == 0,
            Self.maxPeriodMs % periodMs == 0
        else { throw .badPeriod(milliseconds: periodMs) }
        for bound in [from, until] {
            guard bound >= 0, bound <= Self.latestMs else { throw .outOfRange(bound) }
            guard bound % periodMs == 0 else { throw .unaligned(bound, periodMs: periodMs) }
        }
        guard from < until else { throw .emptyWindow(from: from, until: until) }
        guard (until - from) / periodMs <= Self.maxPeriods else {
            throw .tooManyPeriods((until - from) / periodMs, limit: Self.maxPeriods)
        }
        self.from = from
        self.until = until
        self.periodMs = periodMs
    }

    /// Number of periods.
    package var periodCount: Int { Int((until - from) / periodMs) }

    /// Start of period `i` (0 … `periodCount`; `periodCount` gives `until`).
    package func boundary(_ i: Int) -> Int64 { from + Int64(i) * periodMs }

    /// A window bound as written by a user: ms since the Unix epoch, ISO 8601 with a zone
    /// (with or without fractional seconds, as the export itself writes times), or a date
    /// (midnight UTC).
    package static func parseTime(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = withFraction.date(from: text) else { return ReadingVersionPolicy.parseCutoff(text) }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}

import Foundation
import LedgerLite

/// Until when the gateway takes new version 1 readings, which name no gateway and so could
/// have been taken at another gateway the meter is enrolled with. A gateway policy, not a
/// chain rule: it depends on the gateway's clock, and chains keep the version 1 readings
/// they took.
///
/// The transition lets readings that agents queued before they were upgraded (still in
/// their outboxes when the gateway is upgraded) arrive; after it, only version 2 readings
/// naming this gateway are taken.
package struct ReadingVersionPolicy: Sendable, Hashable {
    /// 2027-03-01T00:00:00Z: the end of the transition when the operator does not choose one.
    package static let defaultVersion1CutoffMs: Int64 = 1_803_859_200_000

    /// Version 1 readings arriving before this time (ms since the Unix epoch, gateway clock)
    /// are taken; from this time on they are refused.
    package var acceptVersion1UntilMs: Int64

    package init(acceptVersion1UntilMs: Int64 = Self.defaultVersion1CutoffMs) {
        self.acceptVersion1UntilMs = acceptVersion1UntilMs
    }

    /// Why reading `r` is refused when it arrives at `now`, or nil.
    package func refusal(of r: Reading, now: Int64) -> String? {
        guard r.gateway == nil, now >= acceptVersion1UntilMs else { return nil }
        return
            "reading \(r.sequence) is version 1, which names no gateway; this gateway takes version 1 readings only until \(Self.format(acceptVersion1UntilMs)); upgrade meter-agent, which signs it again as version 2 for this gateway"
    }

    /// The cutoff as a date (`2027-03-01`) or an ISO 8601 time with a zone
    /// (`2027-03-01T12:00:00Z`), in ms since the Unix epoch; nil for anything else.
    package static func parseCutoff(_ text: String) -> Int64? {
        let fullDate = ISO8601DateFormatter()
        fullDate.formatOptions = [.withFullDate]
        let time = ISO8601DateFormatter()
        time.formatOptions = [.withInternetDateTime]
        guard let date = time.date(from: text) ?? (text.count == 10 ? fullDate.date(from: text) : nil) else {
            return nil
        }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// `ms` as an ISO 8601 UTC time.
    package static func format(_ ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

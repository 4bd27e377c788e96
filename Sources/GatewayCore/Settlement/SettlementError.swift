import GridAPI

/// Why a settlement export cannot be made; each says what to change.
package enum SettlementError: Error, Equatable, CustomStringConvertible {
    case badPeriod(milliseconds: Int64)
    case outOfRange(Int64)
    case unaligned(Int64, periodMs: Int64)
    case emptyWindow(from: Int64, until: Int64)
    case tooManyPeriods(Int64, limit: Int64)
    case tooManyRows(meters: Int, periods: Int, limit: Int)
    case unknownMeter(String)
    case noData(from: Int64, until: Int64)

    package var description: String {
        switch self {
        case let .badPeriod(ms):
            return
                "a settlement period is whole seconds from 1m to 1d that divide a day (1m, 5m, 15m, 30m, 1h, 1d …), not \(ms) ms"
        case let .outOfRange(ms):
            return "\(ms) is not a time between 1970-01-01 and 9999-12-31"
        case let .unaligned(ms, period):
            let below = ms - ms % period
            return
                "\(isoTime(ms)) is not on a \(period / 1000) s period boundary (UTC); use \(isoTime(below)) or \(isoTime(below + period))"
        case let .emptyWindow(from, until):
            return "the window is empty: --from \(isoTime(from)) must be before --until \(isoTime(until))"
        case let .tooManyPeriods(count, limit):
            return "the window spans \(count) periods, more than \(limit); export it in parts or take a longer period"
        case let .tooManyRows(meters, periods, limit):
            return
                "\(meters) meters × \(periods) periods is more than \(limit) rows for one request; narrow the window, take a longer period, or use `edge-gateway export` on the gateway"
        case let .unknownMeter(id):
            return "meter \(id) was never enrolled with this gateway"
        case let .noData(from, until):
            return
                "no sealed reading or dispatch between \(isoTime(from)) and \(isoTime(until)); check the window (UTC) and `edge-gateway inspect blocks`"
        }
    }
}

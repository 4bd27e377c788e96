import Foundation

/// ISO 8601 in UTC with milliseconds, exact: the milliseconds are written from the integer
/// (a Double of seconds since 1970 cannot hold every millisecond, and the formatter truncates).
package func isoTime(_ ms: Int64) -> String {
    let (q, r) = ms.quotientAndRemainder(dividingBy: 1000)
    let seconds = r < 0 ? q - 1 : q
    let millis = r < 0 ? r + 1000 : r
    let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
    let digits = String(millis)
    return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
}

/// OCMF's time notation (`TM`): `2026-06-21T11:15:00,000+0000 I`, ISO 8601 with
/// milliseconds after a comma, a four-digit zone offset and a time status letter.
/// GridLedger writes UTC (`+0000`); parsing takes any offset.
public enum OCMFTime {
    /// Earliest time written or accepted: 2000-01-01T00:00:00Z.
    public static let earliest: Int64 = 946_684_800_000
    /// Latest time written or accepted: 9999-12-31T23:59:59.999Z.
    public static let latest: Int64 = 253_402_300_799_999

    /// `ms` (clamped to `earliest…latest`) in OCMF's notation, UTC, with `status`.
    public static func format(_ ms: Int64, status: Character) -> String {
        let t = min(max(ms, earliest), latest)
        let days = t / 86_400_000
        let inDay = t % 86_400_000
        let (y, m, d) = civil(fromDays: days)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(inDay / 3_600_000, 2)):\(pad(inDay / 60_000 % 60, 2))"
            + ":\(pad(inDay / 1000 % 60, 2)),\(pad(inDay % 1000, 3))+0000 \(status)"
    }

    /// Parses OCMF's notation into ms since the Unix epoch, UTC, and the status letter;
    /// nil unless it is exactly that notation with a time between `earliest` and `latest`.
    public static func parse(_ text: String) -> (ms: Int64, status: Character)? {
        let c = Array(text.utf8)
        guard c.count == 30, c[4] == 0x2d, c[7] == 0x2d, c[10] == 0x54, c[13] == 0x3a, c[16] == 0x3a,
            c[19] == 0x2c, c[23] == 0x2b || c[23] == 0x2d, c[28] == 0x20
        else { return nil }
        func number(_ from: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for byte in c[from..<from + count] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
            let mi = number(14, 2), let s = number(17, 2), let ms = number(20, 3), let oh = number(24, 2),
            let om = number(26, 2)
        else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= daysIn(month: mo, year: y), h < 24, mi < 60, s < 60, oh < 24,
            om < 60
        else { return nil }
        let status = Character(Unicode.Scalar(c[29]))
        guard "UISR".contains(status) else { return nil }
        let offset = (oh * 60 + om) * 60_000 * (c[23] == 0x2b ? 1 : -1)
        // Every part is range-checked above, so none of this can overflow.
        let time = days(fromCivil: y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset
        guard time >= earliest, time <= latest else { return nil }
        return (time, status)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days-from-civil for the proleptic Gregorian calendar.
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Whether a snapshot's values could come from an electricity meter: what `MeterIdentifier`
/// judges a profile's fit by.
///
/// Phase voltages lie within 100–300 V and line-to-line ones within 170–520 V, the frequency
/// within 45–65 Hz, counters are finite and not negative, power factors within −1…1; a value
/// the meter marks as not available (NaN) is absent and passes. At least one voltage or the
/// frequency must be present: a map that fits nothing we can check proves nothing.
public enum Plausibility {
    /// Nil when the values are plausible, else the first that is not, named.
    public static func problem(in measurements: [Measurement]) -> String? {
        var checked = false
        for measurement in measurements {
            let value = measurement.value
            let name = measurement.measurand.name
            let unit = measurement.measurand.unit
            if value.isNaN { continue }
            guard value.isFinite else { return "\(name) is \(value)" }
            if name.hasPrefix("voltage"), unit == "V", !name.contains("thd") {
                let lineToLine =
                    name.contains("_l1_l2") || name.contains("_l2_l3") || name.contains("_l3_l1")
                    || name.contains("ll_average")
                let range: ClosedRange<Double> = lineToLine ? 170...520 : 100...300
                guard range.contains(value) else { return "\(name) \(format(value)) V is outside \(range) V" }
                checked = true
            } else if name == "frequency" {
                guard (45...65).contains(value) else { return "frequency \(format(value)) Hz is outside 45-65 Hz" }
                checked = true
            } else if name.hasPrefix("power_factor") {
                guard (-1...1).contains(value) else { return "\(name) \(format(value)) is outside -1...1" }
            } else if isCounter(measurement.measurand) {
                guard value >= 0 else { return "counter \(name) is negative (\(format(value)) \(unit))" }
            }
        }
        return checked ? nil : "no voltage or frequency to check"
    }

    /// Energy and charge counters, by unit.
    static func isCounter(_ measurand: Measurand) -> Bool {
        ["Wh", "kWh", "MWh", "varh", "kvarh", "VAh", "kVAh", "Ah"].contains(measurand.unit)
    }

    /// 231.2, 50.01: up to three decimals.
    public static func format(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        var text = String(Int64((abs(value) * 1000).rounded()))
        while text.count < 4 { text = "0" + text }
        var whole = String(text.dropLast(3))
        var fraction = String(text.suffix(3))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if value < 0, text != "0000" { whole = "-" + whole }
        return fraction.isEmpty ? whole : whole + "." + fraction
    }
}

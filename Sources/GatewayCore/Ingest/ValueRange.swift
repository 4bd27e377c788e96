import LedgerLite

/// The values a meter can report, checked before a reading is admitted: an energy counter
/// counts up from zero, so a negative one is a faulty meter (or a forged reading), not a
/// measurement. A gateway policy: chains written before it still verify.
package enum ValueRange {
    /// The cumulative counters, which a meter never reports below zero.
    package static let counters: [Measurand] = [.energyImportWh, .energyExportWh]

    /// Why `r` carries a value no meter reports, or nil.
    package static func refusal(of r: Reading) -> String? {
        for counter in counters {
            if let value = r[counter], value < 0 {
                return
                    "\(counter) is \(value) Wh in reading \(r.sequence); an energy counter is never negative: check the meter's register map (word order, signedness)"
            }
        }
        return nil
    }
}

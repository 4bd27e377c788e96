/// One meter reading of an OCMF document (an element of the payload's `RD` array), as
/// GridLedger writes it: an energy register in kWh with three decimals (exactly the meter's
/// Wh counter), alternating current, no error flags.
public struct OCMFReading: Hashable, Sendable {
    /// OBIS code of the energy imported (`RI`).
    public static let importRegister = "1-0:1.8.0"
    /// OBIS code of the energy exported (`RI`).
    public static let exportRegister = "1-0:2.8.0"
    /// The largest counter a document carries, Wh (10¹⁵ Wh: any real meter's register fits,
    /// and a value parsed back through a JSON number stays exact).
    public static let maxValueWh: Int64 = 1_000_000_000_000_000

    /// When the value was read, ms since the Unix epoch, UTC (`TM`).
    public var time: Int64
    /// Time status letter after `TM`: `I` informative, `S` synchronized, `U` unknown, `R` relative.
    public var timeStatus: Character
    /// Reason of the reading (`TX`): `B` begin, `E` end of the period's transaction.
    public var transaction: Character
    /// The register's value, Wh (`RV`, written in kWh).
    public var valueWh: Int64
    /// OBIS code of the register (`RI`).
    public var register: String
    /// State of the meter (`ST`): `G` good, `M` manipulation detected, `E` other error.
    public var status: Character

    /// Creates a reading.
    public init(
        time: Int64,
        timeStatus: Character = "I",
        transaction: Character,
        valueWh: Int64,
        register: String,
        status: Character = "G"
    ) {
        self.time = time
        self.timeStatus = timeStatus
        self.transaction = transaction
        self.valueWh = valueWh
        self.register = register
        self.status = status
    }

    /// `RV` in kWh with exactly three decimals, e.g. 1234567 Wh as `1234.567`.
    var kilowattHours: String {
        let magnitude = valueWh.magnitude
        let fraction = String(magnitude % 1000)
        let text = "\(magnitude / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        return valueWh < 0 ? "-" + text : text
    }
}

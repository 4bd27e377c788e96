/// The payload section of an OCMF document as GridLedger writes it: the signing component
/// (`GI`, `GV`), the transaction pagination (`PG`, `T` and the number), the meter (`MS`: its
/// GridLedger id in hex), the user assignment a transaction context requires (`IS` false,
/// `IT` `NONE`: a settlement period has no user) and the readings (`RD`).
public struct OCMFPayload: Hashable, Sendable {
    /// `FV` written by GridLedger.
    public static let currentFormatVersion = "1.0"

    /// `FV`: the OCMF format version.
    public var formatVersion = currentFormatVersion
    /// `GI`: who made the signing component.
    public var gatewayIdentification: String
    /// `GV`: its software version, if given.
    public var gatewayVersion: String?
    /// The number of the transaction pagination (`PG` is `T` followed by it).
    public var pagination: UInt64
    /// `MS`: the meter's serial; GridLedger writes the meter id in hex.
    public var meterSerial: String
    /// `RD`: the readings, in order.
    public var readings: [OCMFReading]

    /// Creates a payload.
    public init(
        gatewayIdentification: String,
        gatewayVersion: String? = nil,
        pagination: UInt64,
        meterSerial: String,
        readings: [OCMFReading]
    ) {
        self.gatewayIdentification = gatewayIdentification
        self.gatewayVersion = gatewayVersion
        self.pagination = pagination
        self.meterSerial = meterSerial
        self.readings = readings
    }

    /// The payload section's JSON, on one line, keys in the order of the OCMF specification.
    public func json() -> String {
        var fields = [
            "\"FV\":\(quoted(formatVersion))",
            "\"GI\":\(quoted(gatewayIdentification))",
        ]
        if let gatewayVersion { fields.append("\"GV\":\(quoted(gatewayVersion))") }
        fields += [
            "\"PG\":\"T\(pagination)\"",
            "\"MS\":\(quoted(meterSerial))",
            "\"IS\":false",
            "\"IT\":\"NONE\"",
        ]
        let rd = readings.map { r in
            "{\"TM\":\(quoted(OCMFTime.format(r.time, status: r.timeStatus))),\"TX\":\(quoted(String(r.transaction))),"
                + "\"RV\":\(r.kilowattHours),\"RI\":\(quoted(r.register)),\"RU\":\"kWh\",\"RT\":\"AC\",\"EF\":\"\","
                + "\"ST\":\(quoted(String(r.status)))}"
        }
        fields.append("\"RD\":[\(rd.joined(separator: ","))]")
        return "{\(fields.joined(separator: ","))}"
    }

    /// A JSON string literal; OCMF forbids `|` inside a section, so it is escaped too.
    private func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "|": out += "\\u007c"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

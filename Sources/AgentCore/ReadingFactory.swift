import Foundation
import LedgerLite
import ModbusBridge

/// Turns a decoded snapshot into a LedgerLite `Reading`: integer fixed point, keyed by
/// the fixed measurand enumeration, found in the profile by OBIS code.
///
/// A meter profile says which register holds import energy (OBIS 1-0:1.8.0) and in which
/// unit (kWh, Wh, …); the reading always carries Wh, W, dV, mA, mHz and thousandths.
package struct ReadingFactory: Sendable {
    /// OBIS code, the LedgerLite measurand, and the multiplier from each accepted unit.
    private static let mapping: [(obis: String, measurand: LedgerLite.Measurand, units: [String: Double])] = [
        ("1-0:1.8.0", .energyImportWh, ["kWh": 1000, "Wh": 1, "MWh": 1_000_000]),
        ("1-0:2.8.0", .energyExportWh, ["kWh": 1000, "Wh": 1, "MWh": 1_000_000]),
        ("1-0:16.7.0", .activePowerW, ["W": 1, "kW": 1000]),
        ("1-0:3.7.0", .reactivePowerVar, ["var": 1, "kvar": 1000]),
        ("1-0:32.7.0", .voltageL1dV, ["V": 10]),
        ("1-0:52.7.0", .voltageL2dV, ["V": 10]),
        ("1-0:72.7.0", .voltageL3dV, ["V": 10]),
        ("1-0:31.7.0", .currentL1mA, ["A": 1000, "mA": 1]),
        ("1-0:51.7.0", .currentL2mA, ["A": 1000, "mA": 1]),
        ("1-0:71.7.0", .currentL3mA, ["A": 1000, "mA": 1]),
        ("1-0:14.7.0", .frequencyMilliHz, ["Hz": 1000]),
        ("1-0:13.7.0", .powerFactorMilli, ["": 1000]),
    ]

    /// Which profile measurand feeds which reading value, and the multiplier.
    private let sources: [(name: String, measurand: LedgerLite.Measurand, factor: Double)]
    /// Each counter's resolution in Wh, from the profile (stated in a version 3 reading so the
    /// gateway allows one step of it beyond what the reported power explains).
    private let resolutions: [LedgerLite.Measurand: Int64]
    private let tamperName: String?

    package init(profile: MeterProfile) {
        var sources: [(String, LedgerLite.Measurand, Double)] = []
        var resolutions: [LedgerLite.Measurand: Int64] = [:]
        for entry in Self.mapping {
            guard let source = profile.measurands.first(where: { $0.obis == entry.obis }),
                let factor = entry.units[source.unit]
            else { continue }
            sources.append((source.name, entry.measurand, factor))
            if let step = source.resolution, let code = entry.measurand.resolution {
                // Whole Wh, rounded up, within what a reading may state.
                let wh = (step * factor).rounded(.up)
                resolutions[code] =
                    wh.isFinite ? Int64(min(max(wh, 1), Double(LedgerLite.Measurand.maxResolutionWh))) : nil
            }
        }
        self.sources = sources
        self.resolutions = resolutions
        self.tamperName = profile.measurand(named: "tamper")?.name
    }

    /// The reading measurands this profile can fill (counter resolutions among them).
    package var measurands: [LedgerLite.Measurand] { sources.map(\.measurand) + resolutions.keys.sorted() }

    /// The reading for `snapshot` with sequence number `sequence`, addressed to `gateway`
    /// (version 2: no other gateway takes it).
    package func reading(
        from snapshot: MeterSnapshot,
        meter: MeterID,
        gateway: GatewayID,
        sequence: UInt64
    ) throws -> Reading {
        var values: [MeasuredValue] = []
        for source in sources {
            guard let value = snapshot.value(source.name) else { continue }
            let scaled = (value * source.factor).rounded()
            // A NaN or absurd register value is not a measurement: leave it out.
            guard scaled.isFinite, abs(scaled) < 9e18 else { continue }
            values.append(MeasuredValue(source.measurand, Int64(scaled)))
            if let code = source.measurand.resolution, let step = resolutions[code] {
                values.append(MeasuredValue(code, step))
            }
        }
        var status: ReadingStatus = []
        if let tamperName, let flag = snapshot.value(tamperName), flag != 0 { status.insert(.tamper) }
        let timestamp = Int64((snapshot.takenAt.timeIntervalSince1970 * 1000).rounded(.down))
        return try Reading(
            meter: meter,
            gateway: gateway,
            sequence: sequence,
            timestamp: timestamp,
            values: values,
            status: status
        )
    }
}

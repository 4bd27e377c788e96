/// What a reading's value measures, with its fixed-point unit. The raw value is the
/// 16-bit code written in the Reading encoding; codes are fixed for Reading versions 1 and 2,
/// and version 3 adds the counters' resolutions.
public enum Measurand: UInt16, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Cumulative active energy imported from the grid, Wh.
    case energyImportWh = 0x0001
    /// Cumulative active energy exported to the grid, Wh.
    case energyExportWh = 0x0002
    /// Total active power, W (positive = import, negative = export).
    case activePowerW = 0x0003
    /// Total reactive power, var (signed).
    case reactivePowerVar = 0x0004
    /// Phase L1 voltage, decivolts (2301 = 230.1 V).
    case voltageL1dV = 0x0010
    /// Phase L2 voltage, decivolts.
    case voltageL2dV = 0x0011
    /// Phase L3 voltage, decivolts.
    case voltageL3dV = 0x0012
    /// Phase L1 current, mA.
    case currentL1mA = 0x0020
    /// Phase L2 current, mA.
    case currentL2mA = 0x0021
    /// Phase L3 current, mA.
    case currentL3mA = 0x0022
    /// Grid frequency, mHz (50012 = 50.012 Hz).
    case frequencyMilliHz = 0x0030
    /// Power factor, thousandths (-1000 … 1000).
    case powerFactorMilli = 0x0031
    /// The smallest step of the import counter, Wh (1 … `Measurand.maxResolutionWh`);
    /// Reading version 3 only.
    case energyImportResolutionWh = 0x0101
    /// The smallest step of the export counter, Wh; Reading version 3 only.
    case energyExportResolutionWh = 0x0102

    /// Coarsest counter resolution a reading may state: 1 kWh.
    public static let maxResolutionWh: Int64 = 1000

    /// True for the counters' resolutions, which describe the meter rather than measure.
    public var isCounterResolution: Bool {
        self == .energyImportResolutionWh || self == .energyExportResolutionWh
    }

    /// The resolution measurand of a counter (import or export energy), if it is one.
    public var resolution: Measurand? {
        switch self {
        case .energyImportWh: return .energyImportResolutionWh
        case .energyExportWh: return .energyExportResolutionWh
        default: return nil
        }
    }

    public static func < (a: Measurand, b: Measurand) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .energyImportWh: return "energy_import_wh"
        case .energyExportWh: return "energy_export_wh"
        case .activePowerW: return "active_power_w"
        case .reactivePowerVar: return "reactive_power_var"
        case .voltageL1dV: return "voltage_l1_dv"
        case .voltageL2dV: return "voltage_l2_dv"
        case .voltageL3dV: return "voltage_l3_dv"
        case .currentL1mA: return "current_l1_ma"
        case .currentL2mA: return "current_l2_ma"
        case .currentL3mA: return "current_l3_ma"
        case .frequencyMilliHz: return "frequency_mhz"
        case .powerFactorMilli: return "power_factor_milli"
        case .energyImportResolutionWh: return "energy_import_resolution_wh"
        case .energyExportResolutionWh: return "energy_export_resolution_wh"
        }
    }
}

/// One measured value: a measurand and its integer fixed-point value.
public struct MeasuredValue: Hashable, Sendable {
    /// What is measured (and in which unit).
    public var measurand: Measurand
    /// The value in the measurand's unit.
    public var value: Int64

    /// Creates a measured value.
    public init(_ measurand: Measurand, _ value: Int64) {
        self.measurand = measurand
        self.value = value
    }
}

/// Status flags of a reading.
public struct ReadingStatus: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The meter's tamper detection (cover, magnet, …) has tripped.
    public static let tamper = ReadingStatus(rawValue: 1 << 0)
    /// The meter reported an error; the values may be unreliable.
    public static let error = ReadingStatus(rawValue: 1 << 1)

    /// Bits defined in Reading version 1; all others must be zero.
    public static let defined: ReadingStatus = [.tamper, .error]
}

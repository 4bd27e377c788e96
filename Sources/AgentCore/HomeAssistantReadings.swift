import Foundation
import HomeAssistantMQTT
import LedgerLite
import ModbusBridge

/// Where the poller hands each reading once it is stored in the outbox. Must not wait.
package protocol ReadingPublishing: Sendable {
    func publish(_ reading: Reading)
}

/// Readings as Home Assistant sensors: one device per meter (identified by its meter id),
/// one sensor per measurand its profile fills, all read from one JSON state per meter.
///
/// The state carries each value in the sensor's unit, exactly from the reading's integers
/// (230.1 V from 2301 dV), plus the reading's sequence number and time (ms since 1970).
package struct HomeAssistantReadings: ReadingPublishing {
    /// How a measurand appears in Home Assistant, and the decimals between the reading's
    /// integer and the sensor's unit.
    package struct SensorKind: Sendable {
        package var sensor: HomeAssistantSensor
        package var decimals: Int
    }

    package let publisher: HomeAssistantPublisher

    package init(publisher: HomeAssistantPublisher) { self.publisher = publisher }

    package func publish(_ reading: Reading) {
        publisher.update(device: reading.meter.hex, state: Self.state(of: reading))
    }

    /// The device for a meter whose profile fills `measurands`.
    package static func device(
        meter: MeterID,
        profile: MeterProfile,
        measurands: [LedgerLite.Measurand]
    ) -> HomeAssistantDevice {
        HomeAssistantDevice(
            id: meter.hex,
            name: "\(profile.manufacturer) \(profile.model) \(meter.hex.prefix(8))",
            manufacturer: profile.manufacturer,
            model: profile.model,
            sensors: measurands.sorted().compactMap { kind(of: $0)?.sensor }
        )
    }

    /// The JSON state of `reading`: `{"energy_import":1234,"voltage_l1":230.1,…,"sequence":7,"timestamp_ms":…}`.
    package static func state(of reading: Reading) -> [UInt8] {
        var fields: [String] = []
        for value in reading.values.sorted(by: { $0.measurand < $1.measurand }) {
            guard let kind = kind(of: value.measurand) else { continue }
            fields.append("\"\(kind.sensor.key)\":\(decimal(value.value, decimals: kind.decimals))")
        }
        fields.append("\"sequence\":\(reading.sequence)")
        fields.append("\"timestamp_ms\":\(reading.timestamp)")
        fields.append("\"tamper\":\(reading.status.contains(.tamper))")
        return Array("{\(fields.joined(separator: ","))}".utf8)
    }

    /// The sensor a measurand is shown as; nil for a counter's resolution, which describes the
    /// meter rather than measures.
    package static func kind(of measurand: LedgerLite.Measurand) -> SensorKind? {
        func sensor(
            _ key: String,
            _ name: String,
            _ deviceClass: String?,
            _ stateClass: String,
            _ unit: String?,
            _ decimals: Int
        )
            -> SensorKind
        {
            SensorKind(
                sensor: HomeAssistantSensor(
                    key: key,
                    name: name,
                    deviceClass: deviceClass,
                    stateClass: stateClass,
                    unit: unit
                ),
                decimals: decimals
            )
        }
        switch measurand {
        case .energyImportWh: return sensor("energy_import", "Energy import", "energy", "total_increasing", "Wh", 0)
        case .energyExportWh: return sensor("energy_export", "Energy export", "energy", "total_increasing", "Wh", 0)
        case .activePowerW: return sensor("power", "Active power", "power", "measurement", "W", 0)
        case .reactivePowerVar:
            return sensor("reactive_power", "Reactive power", "reactive_power", "measurement", "var", 0)
        case .voltageL1dV: return sensor("voltage_l1", "Voltage L1", "voltage", "measurement", "V", 1)
        case .voltageL2dV: return sensor("voltage_l2", "Voltage L2", "voltage", "measurement", "V", 1)
        case .voltageL3dV: return sensor("voltage_l3", "Voltage L3", "voltage", "measurement", "V", 1)
        case .currentL1mA: return sensor("current_l1", "Current L1", "current", "measurement", "A", 3)
        case .currentL2mA: return sensor("current_l2", "Current L2", "current", "measurement", "A", 3)
        case .currentL3mA: return sensor("current_l3", "Current L3", "current", "measurement", "A", 3)
        case .frequencyMilliHz: return sensor("frequency", "Frequency", "frequency", "measurement", "Hz", 3)
        case .powerFactorMilli: return sensor("power_factor", "Power factor", "power_factor", "measurement", nil, 3)
        case .energyImportResolutionWh, .energyExportResolutionWh: return nil
        }
    }

    /// `value` / 10^decimals as an exact JSON number: `decimal(2301, decimals: 1)` is `230.1`.
    package static func decimal(_ value: Int64, decimals: Int) -> String {
        let sign = value < 0 ? "-" : ""
        guard decimals > 0 else { return "\(value)" }
        var divisor: UInt64 = 1
        for _ in 0..<decimals { divisor *= 10 }
        let magnitude = value.magnitude
        let fraction = String(magnitude % divisor)
        return "\(sign)\(magnitude / divisor).\(String(repeating: "0", count: decimals - fraction.count))\(fraction)"
    }
}

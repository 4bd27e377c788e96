import Foundation
import ModbusBridge

/// What an emulated meter measures: a household or a producer.
package enum EmulatedRole: String, CaseIterable, Codable, Sendable {
    /// Household load with a morning and an evening peak.
    case consumer
    /// Photovoltaic array: a daylight curve with passing clouds.
    case pv
    /// Wind turbine: a power curve over a wandering wind speed.
    case wind
    /// Home battery: charges around noon, discharges in the evening.
    case battery

    package var isProducer: Bool { self != .consumer }
}

/// Deterministic pseudo-random noise: the same (seed, channel, index) always gives the
/// same value in -1...1, so a run can be replayed exactly.
package struct Noise: Sendable {
    package let seed: UInt64

    package func value(_ channel: UInt64, _ index: Int64) -> Double {
        var generator = SplitMix64(seed: seed ^ (channel &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(bitPattern: index))
        return Double(generator.next() >> 11) / Double(1 << 53) * 2 - 1
    }

    /// Noise that changes smoothly over `period` seconds (linear between knots).
    package func smooth(_ channel: UInt64, second: Int64, period: Int64) -> Double {
        let knot = second.floorDivided(by: period)
        let fraction = Double(second - knot * period) / Double(period)
        return value(channel, knot) * (1 - fraction) + value(channel, knot + 1) * fraction
    }
}

extension Int64 {
    package func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// The electrical quantities of one simulated second, per phase and in total.
package struct ElectricalState: Sendable, Equatable {
    package var voltage: [Double]  // V per phase
    package var current: [Double]  // A per phase
    package var power: [Double]  // W per phase, positive = import
    package var powerFactor: [Double]
    package var frequency: Double  // Hz

    package var apparentPower: [Double] { zip(voltage, current).map { $0 * $1 } }
    package var reactivePower: [Double] {
        zip(apparentPower, power).map { max(0, $0 * $0 - $1 * $1).squareRoot() }
    }
    package var totalPower: Double { power.reduce(0, +) }
}

/// A meter's physics as a pure function of simulated time (UTC seconds) and seed.
package struct MeterModel: Sendable {
    package let role: EmulatedRole
    package let phases: Int
    /// Peak power of the installation in W (load peak, PV peak, turbine or battery rating).
    package let ratedPower: Double
    package let noise: Noise

    package init(role: EmulatedRole, phases: Int, seed: UInt64, ratedPower: Double? = nil) {
        self.role = role
        self.phases = phases
        self.noise = Noise(seed: seed)
        self.ratedPower = ratedPower ?? Self.defaultRating(role: role, phases: phases)
    }

    package static func defaultRating(role: EmulatedRole, phases: Int) -> Double {
        switch role {
        case .consumer: phases == 1 ? 3000 : 6000
        case .pv: phases == 1 ? 4000 : 10000
        case .wind: 5000
        case .battery: 3000
        }
    }

    /// Net active power at `second` in W: positive imports, negative exports.
    package func netPower(at second: Int64) -> Double {
        let hour = Double(second.modulo(86400)) / 3600
        switch role {
        case .consumer:
            let shape = 0.08 + 0.35 * bump(hour, 7.5, 1.0) + 0.15 * bump(hour, 12.5, 1.5) + 0.6 * bump(hour, 19.5, 1.8)
            let variation = 1 + 0.2 * noise.smooth(1, second: second, period: 300) + 0.05 * noise.value(2, second)
            return max(40, ratedPower * shape * variation)
        case .pv:
            guard (6.0...18.0).contains(hour) else { return 3 }  // inverter standby draw at night
            let daylight = pow(sin(Double.pi * (hour - 6) / 12), 1.3)
            let clouds = 0.8 + 0.2 * noise.smooth(3, second: second, period: 600)
            return -ratedPower * daylight * clouds
        case .wind:
            let speed = max(0, 7 + 4 * noise.smooth(4, second: second, period: 1800) + 0.8 * noise.value(5, second))
            return -ratedPower * windCurve(speed)
        case .battery:
            if (10.0..<15.0).contains(hour) { return ratedPower * 0.6 * bump(hour, 12.5, 1.5) }
            if (18.0..<23.0).contains(hour) { return -ratedPower * 0.8 * bump(hour, 20.5, 1.5) }
            return 2
        }
    }

    /// Everything the meter measures at `second`; `sag` scales the voltages (an anomaly).
    package func state(at second: Int64, sag: Double = 1) -> ElectricalState {
        let total = netPower(at: second)
        let shares = phaseShares(at: second)
        var state = ElectricalState(
            voltage: [],
            current: [],
            power: [],
            powerFactor: [],
            frequency: 50 + 0.04 * noise.smooth(6, second: second, period: 120)
        )
        for phase in 0..<phases {
            let power = total * shares[phase]
            // Load pulls the voltage down a little, export lifts it; EN 50160 keeps 230 V ±10 %.
            let nominal = 230 + 2.5 * noise.smooth(10 + UInt64(phase), second: second, period: 900) - 0.0008 * power
            let voltage = min(253, max(207, nominal)) * sag
            let powerFactor =
                role == .consumer
                ? 0.95 + 0.04 * noise.smooth(20 + UInt64(phase), second: second, period: 600)
                : 0.995
            state.voltage.append(voltage)
            state.power.append(power)
            state.powerFactor.append(powerFactor)
            state.current.append(abs(power) / (voltage * powerFactor))
        }
        return state
    }

    private func phaseShares(at second: Int64) -> [Double] {
        guard phases == 3 else { return [1] }
        guard role == .consumer else { return [1.0 / 3, 1.0 / 3, 1.0 / 3] }
        let raw = (0..<3).map { 1 + 0.5 * noise.smooth(30 + UInt64($0), second: second, period: 1200) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }

    private func bump(_ hour: Double, _ center: Double, _ width: Double) -> Double {
        exp(-pow((hour - center) / width, 2) / 2)
    }

    /// Fraction of rated power at a wind speed in m/s: cut-in 3, rated 12, cut-out 25.
    private func windCurve(_ speed: Double) -> Double {
        switch speed {
        case ..<3, 25...: 0
        case 12...: 1
        default: pow((speed - 3) / 9, 3)
        }
    }
}

extension Int64 {
    package func modulo(_ divisor: Int64) -> Int64 {
        let remainder = self % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }
}

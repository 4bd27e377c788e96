/// Thresholds of the value checks.
package struct AnomalyLimits: Sendable {
    /// EN 50160: 230 V ± 10 %, in dV.
    package var voltageRange: ClosedRange<Int64> = 2070...2530
    /// Energy may grow by at most `factor` × max(|P|) × Δt plus `toleranceWh`.
    package var energyFactor: Double = 2
    package var energyToleranceWh: Double = 10
    /// This many bad signatures for one meter within `badSignatureWindowMs` is an anomaly.
    package var badSignatureThreshold = 3
    package var badSignatureWindowMs: Int64 = 60_000
}

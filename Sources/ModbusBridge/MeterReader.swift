import Foundation

/// All measurands of one meter, read in one pass of its read plan.
public struct MeterSnapshot: Sendable {
    public var profile: String
    public var unit: UInt8
    /// When the first request of the pass was sent.
    public var takenAt: Date
    public var measurements: [Measurement]
    /// Requests sent for the pass, retries included.
    public var requests: Int
    /// Time spent on the bus for the pass.
    public var busTime: Duration

    public init(
        profile: String,
        unit: UInt8,
        takenAt: Date,
        measurements: [Measurement],
        requests: Int,
        busTime: Duration
    ) {
        self.profile = profile
        self.unit = unit
        self.takenAt = takenAt
        self.measurements = measurements
        self.requests = requests
        self.busTime = busTime
    }

    /// The value of the named measurand.
    public func value(_ name: String) -> Double? {
        measurements.first { $0.measurand.name == name }?.value
    }
}

/// Reads a meter with the fewest requests its profile allows.
public struct MeterReader: Sendable {
    public let client: ModbusClient
    public let profile: MeterProfile
    public let unit: UInt8
    public let plan: ReadPlan

    /// `measurands` limits the read to those names (all when nil).
    public init(client: ModbusClient, profile: MeterProfile, unit: UInt8, measurands: Set<String>? = nil) {
        self.client = client
        self.profile = profile
        self.unit = unit
        self.plan = profile.readPlan(only: measurands)
    }

    /// Runs the plan once and decodes every measurand.
    public func read() async throws(ModbusError) -> MeterSnapshot {
        let before = await client.statistics
        let takenAt = Date()
        var answers: [[UInt16]] = []
        for request in plan.requests {
            answers.append(
                try await client.readRegisters(
                    request.table,
                    address: request.address,
                    count: request.count,
                    unit: unit
                )
            )
        }
        let after = await client.statistics
        return MeterSnapshot(
            profile: profile.name,
            unit: unit,
            takenAt: takenAt,
            measurements: plan.decode(answers),
            requests: after.requests - before.requests,
            busTime: after.busTime - before.busTime
        )
    }
}

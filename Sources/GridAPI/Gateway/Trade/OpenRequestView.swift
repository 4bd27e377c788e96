package struct OpenRequestView: Codable, Sendable, Equatable {
    package var consumer: String
    package var sequence: UInt64
    package var energyWh: UInt64

    package init(
        consumer: String,
        sequence: UInt64,
        energyWh: UInt64
    ) {
        self.consumer = consumer
        self.sequence = sequence
        self.energyWh = energyWh
    }
}

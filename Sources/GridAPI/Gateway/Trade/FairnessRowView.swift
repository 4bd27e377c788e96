package struct FairnessRowView: Codable, Sendable, Equatable {
    package var producer: String
    /// Active at the window's end, so counted in the measures.
    package var counted: Bool
    /// Dispatches it took part in within the window (a split share counting as one).
    package var dispatches: UInt64
    /// Energy it delivered within the window.
    package var energyWh: UInt64
    /// Its TNT now.
    package var tnt: UInt64

    package init(
        producer: String,
        counted: Bool,
        dispatches: UInt64,
        energyWh: UInt64,
        tnt: UInt64
    ) {
        self.producer = producer
        self.counted = counted
        self.dispatches = dispatches
        self.energyWh = energyWh
        self.tnt = tnt
    }
}

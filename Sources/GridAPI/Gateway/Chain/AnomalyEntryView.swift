package struct AnomalyEntryView: Codable, Sendable {
    package var index: UInt64
    package var height: UInt64?
    package var sealed: Bool
    package var anomaly: AnomalyView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        sealed: Bool,
        anomaly: AnomalyView
    ) {
        self.index = index
        self.height = height
        self.sealed = sealed
        self.anomaly = anomaly
    }
}

package struct AnomalyListView: Codable, Sendable {
    package var anomalies: [AnomalyEntryView]
    package var next: UInt64?

    package init(
        anomalies: [AnomalyEntryView],
        next: UInt64? = nil
    ) {
        self.anomalies = anomalies
        self.next = next
    }
}

/// One stored block in the gateway's event stream (`event: block`, `id:` its height): what
/// a dashboard shows of it without fetching the block.
package struct BlockEventView: Codable, Sendable {
    package var header: HeaderView
    /// How many of its entries are of each record type (`reading`, `anomaly`, `dispatch`, …).
    package var entryTypes: [String: Int]
    /// Each meter's newest reading in the block; absent when the stream carries no household
    /// data (`EventStreamHello.householdData`).
    package var readings: [StoredReadingView]?
    /// The block's anomaly records; absent when the stream carries no household data.
    package var anomalies: [AnomalyEntryView]?

    package init(
        header: HeaderView,
        entryTypes: [String: Int],
        readings: [StoredReadingView]? = nil,
        anomalies: [AnomalyEntryView]? = nil
    ) {
        self.header = header
        self.entryTypes = entryTypes
        self.readings = readings
        self.anomalies = anomalies
    }
}

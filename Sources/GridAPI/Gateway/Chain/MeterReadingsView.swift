package struct MeterReadingsView: Codable, Sendable {
    package var meter: String
    package var from: Int64
    package var until: Int64
    package var readings: [StoredReadingView]

    package init(
        meter: String,
        from: Int64,
        until: Int64,
        readings: [StoredReadingView]
    ) {
        self.meter = meter
        self.from = from
        self.until = until
        self.readings = readings
    }
}

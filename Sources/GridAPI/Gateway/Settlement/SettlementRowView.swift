/// One meter in one settlement period.
package struct SettlementRowView: Codable, Sendable, Equatable {
    /// Period start (inclusive) and end (exclusive), ms since the Unix epoch.
    package var periodStart: Int64
    package var periodEnd: Int64
    package var periodStartTime: String
    package var periodEndTime: String
    /// The meter (32 hex digits) and the roles it was enrolled in.
    package var meter: String
    package var roles: [String]
    /// Energy imported and exported in the period by the meter's counters, Wh; nil when the
    /// meter's readings carry no such counter, or the counter fell (see `notes`).
    package var importWh: Int64?
    package var exportWh: Int64?
    /// The readings each counter difference was taken from (start, end).
    package var importReadings: SettlementReadingPair?
    package var exportReadings: SettlementReadingPair?
    /// Energy the meter received as a consumer and delivered as a producer by the period's
    /// dispatches, Wh.
    package var receivedWh: UInt64
    package var deliveredWh: UInt64
    /// Each dispatch share the meter took part in.
    package var trades: [SettlementTradeView]
    /// False while the period reaches beyond the last sealed block's time.
    package var complete: Bool
    /// Why a figure is missing or to be read with care.
    package var notes: [String]

    package init(
        periodStart: Int64,
        periodEnd: Int64,
        meter: String,
        roles: [String],
        importWh: Int64?,
        exportWh: Int64?,
        importReadings: SettlementReadingPair?,
        exportReadings: SettlementReadingPair?,
        receivedWh: UInt64,
        deliveredWh: UInt64,
        trades: [SettlementTradeView],
        complete: Bool,
        notes: [String]
    ) {
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.periodStartTime = isoTime(periodStart)
        self.periodEndTime = isoTime(periodEnd)
        self.meter = meter
        self.roles = roles
        self.importWh = importWh
        self.exportWh = exportWh
        self.importReadings = importReadings
        self.exportReadings = exportReadings
        self.receivedWh = receivedWh
        self.deliveredWh = deliveredWh
        self.trades = trades
        self.complete = complete
        self.notes = notes
    }
}

/// The two readings a counter difference was taken from: entry indices, sequence numbers,
/// times and counter values.
package struct SettlementReadingPair: Codable, Sendable, Equatable {
    package var startEntry: UInt64
    package var startSequence: UInt64
    package var startTime: String
    package var startWh: Int64
    package var endEntry: UInt64
    package var endSequence: UInt64
    package var endTime: String
    package var endWh: Int64

    package init(start: SettlementCounterReading, end: SettlementCounterReading) {
        startEntry = start.entry
        startSequence = start.sequence
        startTime = isoTime(start.timestamp)
        startWh = start.wh
        endEntry = end.entry
        endSequence = end.sequence
        endTime = isoTime(end.timestamp)
        endWh = end.wh
    }
}

/// A counter's value in one reading, and where that reading is on the chain.
package struct SettlementCounterReading: Sendable, Equatable {
    package var entry: UInt64
    package var sequence: UInt64
    package var timestamp: Int64
    package var wh: Int64

    package init(entry: UInt64, sequence: UInt64, timestamp: Int64, wh: Int64) {
        self.entry = entry
        self.sequence = sequence
        self.timestamp = timestamp
        self.wh = wh
    }
}

/// One dispatch share, seen from one meter: what it received from a producer, or delivered
/// to a consumer.
package struct SettlementTradeView: Codable, Sendable, Equatable {
    /// The dispatch's entry index.
    package var entry: UInt64
    /// "received" (the meter was the consumer) or "delivered" (the producer).
    package var direction: String
    /// The other side (32 hex digits).
    package var counterparty: String
    package var energyWh: UInt64

    package init(entry: UInt64, direction: String, counterparty: String, energyWh: UInt64) {
        self.entry = entry
        self.direction = direction
        self.counterparty = counterparty
        self.energyWh = energyWh
    }
}

/// A settlement export (`GET /v1/export?format=json`, `edge-gateway export json`): per meter
/// and UTC-aligned period, the energy its signed counters show and the energy it traded,
/// each figure traceable to the chain entries it was taken from. Only sealed entries count;
/// docs/GATEWAY.md, "Settlement export", gives the rules.
package struct SettlementView: Codable, Sendable {
    /// Window start (ms since the Unix epoch, inclusive) and end (exclusive).
    package var from: Int64
    package var until: Int64
    package var fromTime: String
    package var untilTime: String
    /// Length of one period, seconds.
    package var periodSeconds: Int64
    /// The sealed chain the export was taken from: its highest block, the number of entries
    /// it holds, and the last timestamp of that block.
    package var sealed: SettlementCutView
    /// One row per meter and period with data, periods in order, meters by id within one.
    package var rows: [SettlementRowView]

    package init(
        from: Int64,
        until: Int64,
        periodSeconds: Int64,
        sealed: SettlementCutView,
        rows: [SettlementRowView]
    ) {
        self.from = from
        self.until = until
        self.fromTime = isoTime(from)
        self.untilTime = isoTime(until)
        self.periodSeconds = periodSeconds
        self.sealed = sealed
        self.rows = rows
    }
}

/// Where the sealed chain stood when an export was taken.
package struct SettlementCutView: Codable, Sendable, Equatable {
    /// Height of the last sealed block; nil when nothing is sealed yet.
    package var height: UInt64?
    /// Entries in the sealed blocks: entry indices below it were considered.
    package var entries: UInt64
    /// Last timestamp of the last sealed block (ms); nil when nothing is sealed yet.
    package var through: Int64?
    package var throughTime: String?

    package init(height: UInt64?, entries: UInt64, through: Int64?) {
        self.height = height
        self.entries = entries
        self.through = through
        self.throughTime = through.map(isoTime)
    }
}

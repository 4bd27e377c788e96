import LedgerLite

package struct ProducerView: Codable, Sendable, Equatable {
    package var meter: String
    package var active: Bool
    /// Requests served, a share of a split counting as one.
    package var tnt: UInt64
    /// Energy it can still deliver.
    package var availableWh: UInt64
    /// Energy delivered by dispatches.
    package var servedWh: UInt64
    /// Energy its offers were credited with (after value verification).
    package var creditedWh: UInt64
    /// Metered export since its first reading with an export counter.
    package var exportedWh: UInt64

    package init(_ row: ProducerRow) {
        meter = row.meter.hex
        active = row.status.active
        tnt = row.status.tnt
        availableWh = row.status.availableWh
        servedWh = row.status.servedWh
        creditedWh = row.status.creditedWh
        exportedWh = row.status.exportedWh
    }
}

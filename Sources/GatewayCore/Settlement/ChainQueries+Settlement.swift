import GridAPI
import LedgerLite
import LedgerStore

/// Settlement rows from the sealed chain (docs/GATEWAY.md, "Settlement export").
///
/// Energy from the counters: a counter's value at a period boundary is the one in the
/// meter's last reading at or before the boundary that carries it, and a period's energy
/// is its value at the end boundary minus its value at the start boundary, so consecutive
/// periods add up to the counter's whole rise and no watt-hour is counted twice. A meter
/// with no reading at or before a period's start is taken from its first reading in the
/// period. A meter has a row for a period when it has a reading in it or traded in it: the
/// energy a meter used while it sent nothing shows in the period of its next reading. Trades:
/// a dispatch belongs to the period holding the last timestamp of its
/// block, the rule fairness windows use (the chain records no time per entry).
///
/// The cost is one indexed look-up per meter and period boundary, plus the window's
/// dispatches: it depends on the window, not on the chain's length.
extension ChainQueries {
    /// Readings looked at below a boundary to find one carrying a counter.
    static let settlementLookBack = 16

    /// The sealed chain now: what an export considers.
    package func settlementCut() throws -> SettlementCutView {
        guard let tip = try store.tip() else { return SettlementCutView(height: nil, entries: 0, through: nil) }
        return SettlementCutView(height: tip.height, entries: tip.treeSize, through: tip.lastTimestamp)
    }

    /// Meters enrolled in sealed blocks below the cut, with their roles, by id.
    package func settlementMeters(cut: SettlementCutView) throws -> [(meter: MeterID, roles: [MeterRole])] {
        var roles: [MeterID: Set<MeterRole>] = [:]
        var from: UInt64 = 0
        while from < cut.entries {
            let page = try store.entries(ofType: .enrollment, fromIndex: from, limit: 1000)
            for stored in page where stored.index < cut.entries {
                if case let .enrollment(e) = stored.entry.record { roles[e.meter, default: []].insert(e.role) }
            }
            guard let last = page.last else { break }
            from = last.index + 1
        }
        return roles.keys.sorted { $0.hex < $1.hex }.map { id in
            (id, roles[id]!.sorted { $0.rawValue < $1.rawValue })
        }
    }

    /// Calls `row` for each meter and period with data, period by period, meters in the
    /// given order; returns the number of rows.
    @discardableResult
    package func settlementRows(
        _ window: SettlementWindow,
        cut: SettlementCutView,
        meters: [(meter: MeterID, roles: [MeterRole])],
        row: (SettlementRowView) throws -> Void
    ) throws -> Int {
        let trades = try settlementTrades(window, cut: cut)
        var atBoundary = try meters.map { try counters(of: $0.meter, atOrBefore: window.from, cut: cut) }
        var rows = 0
        for period in 0..<window.periodCount {
            let start = window.boundary(period)
            let end = window.boundary(period + 1)
            for (m, meter) in meters.enumerated() {
                let atEnd = try counters(of: meter.meter, atOrBefore: end, cut: cut)
                var atStart = atBoundary[m]
                if atStart.isEmpty && !atEnd.isEmpty {
                    atStart = try firstCounters(of: meter.meter, from: start, until: end, cut: cut)
                }
                atBoundary[m] = atEnd
                let mine = trades[period][meter.meter] ?? []
                let readInPeriod = atEnd.values.contains { $0.timestamp >= start }
                guard readInPeriod || !mine.isEmpty else { continue }
                try row(
                    Self.settlementRow(
                        start: start,
                        end: end,
                        meter: meter,
                        atStart: atStart,
                        atEnd: atEnd,
                        trades: mine,
                        complete: cut.through.map { end <= $0 } ?? false
                    )
                )
                rows += 1
            }
        }
        return rows
    }

    private static func settlementRow(
        start: Int64,
        end: Int64,
        meter: (meter: MeterID, roles: [MeterRole]),
        atStart: [Measurand: SettlementCounterReading],
        atEnd: [Measurand: SettlementCounterReading],
        trades: [SettlementTradeView],
        complete: Bool
    ) -> SettlementRowView {
        var notes: [String] = []
        func difference(_ counter: Measurand, _ name: String) -> (Int64?, SettlementReadingPair?) {
            guard let first = atStart[counter], let last = atEnd[counter] else { return (nil, nil) }
            let pair = SettlementReadingPair(start: first, end: last)
            // Both are meter-signed values: the subtraction must not trap on extremes.
            let (rise, overflow) = last.wh.subtractingReportingOverflow(first.wh)
            guard !overflow, rise >= 0 else {
                notes.append(
                    "the \(name) counter fell from \(first.wh) Wh (entry \(first.entry)) to \(last.wh) Wh (entry \(last.entry)): a replaced or reset meter; no \(name) figure"
                )
                return (nil, pair)
            }
            return (rise, pair)
        }
        let (importWh, importPair) = difference(.energyImportWh, "import")
        let (exportWh, exportPair) = difference(.energyExportWh, "export")
        if !complete { notes.append("the period reaches beyond the last sealed block") }
        var received: UInt64 = 0
        var delivered: UInt64 = 0
        for trade in trades {
            // Each share is at most 2^64-1 Wh; saturate rather than trap on a hostile sum.
            if trade.direction == SettlementTradeDirection.received {
                received = received.addingReportingOverflow(trade.energyWh).overflow ? .max : received + trade.energyWh
            } else {
                delivered =
                    delivered.addingReportingOverflow(trade.energyWh).overflow ? .max : delivered + trade.energyWh
            }
        }
        return SettlementRowView(
            periodStart: start,
            periodEnd: end,
            meter: meter.meter.hex,
            roles: meter.roles.map(\.description),
            importWh: importWh,
            exportWh: exportWh,
            importReadings: importPair,
            exportReadings: exportPair,
            receivedWh: received,
            deliveredWh: delivered,
            trades: trades,
            complete: complete,
            notes: notes
        )
    }

    /// The energy counters of `meter`'s newest sealed readings at or before `time`, each
    /// from the newest reading carrying it (looking back `settlementLookBack` readings).
    private func counters(
        of meter: MeterID,
        atOrBefore time: Int64,
        cut: SettlementCutView
    ) throws -> [Measurand: SettlementCounterReading] {
        let newest = try store.readings(meter: meter, atOrBefore: time, limit: Self.settlementLookBack)
        return Self.counters(in: newest.filter { $0.index < cut.entries })
    }

    /// The counters of `meter`'s first sealed readings with `from ≤ timestamp ≤ until`.
    private func firstCounters(
        of meter: MeterID,
        from: Int64,
        until: Int64,
        cut: SettlementCutView
    ) throws -> [Measurand: SettlementCounterReading] {
        let oldest = try store.readings(meter: meter, from: from, until: until + 1, limit: Self.settlementLookBack)
        return Self.counters(in: oldest.filter { $0.index < cut.entries })
    }

    /// For each energy counter, its value in the first of `entries` that carries it.
    private static func counters(in entries: [StoredEntry]) -> [Measurand: SettlementCounterReading] {
        var found: [Measurand: SettlementCounterReading] = [:]
        for stored in entries {
            guard case let .reading(r) = stored.entry.record else { continue }
            for counter in [Measurand.energyImportWh, .energyExportWh] where found[counter] == nil {
                if let wh = r[counter] {
                    found[counter] = SettlementCounterReading(
                        entry: stored.index,
                        sequence: r.sequence,
                        timestamp: r.timestamp,
                        wh: wh
                    )
                }
            }
            if found.count == 2 { break }
        }
        return found
    }

    /// Each period's dispatch shares by meter, both sides of each: the dispatches of the
    /// sealed blocks whose last timestamp is in the period.
    private func settlementTrades(
        _ window: SettlementWindow,
        cut: SettlementCutView
    ) throws -> [[MeterID: [SettlementTradeView]]] {
        // Entry index where each period's blocks begin, and where the window's end.
        let bounds = try (0...window.periodCount).map { i in
            min(try firstIndex(ofHeight: try store.firstHeight(lastTimestampAtLeast: window.boundary(i))), cut.entries)
        }
        var periods = [[MeterID: [SettlementTradeView]]](repeating: [:], count: window.periodCount)
        var next = bounds[0]
        var period = 0
        page: while next < bounds[window.periodCount] {
            let stored = try store.dispatches(fromIndex: next, limit: 1000)
            for s in stored {
                guard s.index < bounds[window.periodCount] else { break page }
                while s.index >= bounds[period + 1] { period += 1 }
                guard case let .dispatch(d) = s.entry.record else { continue }
                let consumer = d.request.consumer
                for share in d.outcome.shares {
                    periods[period][consumer, default: []].append(
                        SettlementTradeView(
                            entry: s.index,
                            direction: SettlementTradeDirection.received,
                            counterparty: share.producer.hex,
                            energyWh: share.energyWh
                        )
                    )
                    periods[period][share.producer, default: []].append(
                        SettlementTradeView(
                            entry: s.index,
                            direction: SettlementTradeDirection.delivered,
                            counterparty: consumer.hex,
                            energyWh: share.energyWh
                        )
                    )
                }
            }
            guard let last = stored.last else { break }
            next = last.index + 1
        }
        return periods
    }
}

/// The two sides of a dispatch share, as `SettlementTradeView.direction` names them.
package enum SettlementTradeDirection {
    package static let received = "received"
    package static let delivered = "delivered"
}

import LedgerLite

/// One settlement export of a gateway's sealed chain, shared by `GET /v1/export` and
/// `edge-gateway export`: the cut, the meters, and the document written piece by piece.
/// Blocks on SQLite: run it on a thread of your own.
package struct SettlementExport {
    /// Most meter-periods one HTTP request may ask for (the command has no limit: it
    /// writes as it goes).
    package static let requestRowLimit = 50_000

    package let queries: ChainQueries

    package init(queries: ChainQueries) {
        self.queries = queries
    }

    /// Writes the export of `window` through `write`: the head just before the first row,
    /// so nothing is written when there is nothing to export.
    ///
    /// - Parameters:
    ///   - meters: meter ids (hex) to export; empty: every meter ever enrolled.
    ///   - rowLimit: most meters × periods to accept, if any.
    /// - Returns: the number of rows written.
    /// - Throws: `SettlementError.unknownMeter`, `.tooManyRows`, or `.noData` when the
    ///   window holds no sealed reading or dispatch of the meters; store errors.
    @discardableResult
    package func write(
        _ window: SettlementWindow,
        format: SettlementDocument.Format,
        meters requested: [String] = [],
        rowLimit: Int? = nil,
        to write: (String) throws -> Void
    ) throws -> Int {
        let cut = try queries.settlementCut()
        var meters = try queries.settlementMeters(cut: cut)
        if !requested.isEmpty {
            let known = Dictionary(uniqueKeysWithValues: meters.map { ($0.meter.hex, $0) })
            meters = try Set(requested.map { $0.lowercased() }).sorted().map { id in
                guard let meter = known[id] else { throw SettlementError.unknownMeter(id) }
                return meter
            }
        }
        if let rowLimit, meters.count > 0, window.periodCount > rowLimit / meters.count {
            throw SettlementError.tooManyRows(meters: meters.count, periods: window.periodCount, limit: rowLimit)
        }
        var document = SettlementDocument(format: format)
        var started = false
        let rows = try queries.settlementRows(window, cut: cut, meters: meters) { row in
            if !started {
                try write(try document.head(window: window, cut: cut))
                started = true
            }
            try write(try document.row(row))
        }
        guard rows > 0 else { throw SettlementError.noData(from: window.from, until: window.until) }
        try write(document.tail())
        return rows
    }
}

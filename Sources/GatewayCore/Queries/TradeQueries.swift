import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit

/// Read-side queries of energy trading, shared by the HTTP API (with the running writer's
/// pending entries and TNT table) and `edge-gateway inspect` (with the journal's pending
/// entries and a replayed TNT table). Every call blocks on SQLite: run on a thread of your own.
extension ChainQueries {
    /// Dispatches with entry index ≥ `from`, sealed ones from the store then pending ones,
    /// at most `limit` (1…1000); only `consumer`'s when given.
    package func dispatches(
        from: UInt64,
        limit: Int,
        consumer: MeterID?,
        pending: [PendingEntry]
    ) throws -> DispatchListView {
        let limit = max(1, min(limit, 1000))
        let stored = try store.dispatches(consumer: consumer, fromIndex: from, limit: limit)
        var list = try dispatchViews(stored, pending: pending)
        var seen = Set(list.map(\.index))
        let requests = Self.pendingRequests(pending)
        for p in pending where p.index >= from && list.count < limit && !seen.contains(p.index) {
            guard case let .dispatch(d) = p.entry.record, consumer == nil || d.request.consumer == consumer else {
                continue
            }
            list.append(
                DispatchEntryView(
                    index: p.index,
                    height: nil,
                    dispatch: d,
                    request: try request(for: d, at: p.index, pending: requests)
                )
            )
            seen.insert(p.index)
        }
        let next = list.count == limit ? list.last.map { $0.index + 1 } : nil
        return DispatchListView(dispatches: list, next: next)
    }

    /// The newest `limit` dispatches (pending ones included), oldest first; `next` is nil.
    package func latestDispatches(limit: Int, consumer: MeterID?, pending: [PendingEntry]) throws -> DispatchListView {
        let limit = max(1, min(limit, 1000))
        let requests = Self.pendingRequests(pending)
        var newest: [DispatchEntryView] = []
        for p in pending.reversed() where newest.count < limit {
            guard case let .dispatch(d) = p.entry.record, consumer == nil || d.request.consumer == consumer else {
                continue
            }
            newest.append(
                DispatchEntryView(
                    index: p.index,
                    height: nil,
                    dispatch: d,
                    request: try request(for: d, at: p.index, pending: requests)
                )
            )
        }
        if newest.count < limit {
            let stored = try store.dispatches(
                consumer: consumer,
                fromIndex: nil,
                limit: limit - newest.count,
                descending: true
            )
            let seen = Set(newest.map(\.index))
            newest += try dispatchViews(stored.filter { !seen.contains($0.index) }, pending: pending)
        }
        return DispatchListView(dispatches: newest.sorted { $0.index < $1.index }, next: nil)
    }

    private func dispatchViews(_ stored: [StoredEntry], pending: [PendingEntry]) throws -> [DispatchEntryView] {
        try stored.compactMap { s in
            guard case let .dispatch(d) = s.entry.record else { return nil }
            return DispatchEntryView(
                index: s.index,
                height: s.height,
                dispatch: d,
                request: try request(for: d, at: s.index, pending: [:])
            )
        }
    }

    private static func pendingRequests(
        _ pending: [PendingEntry]
    ) -> [RequestReference: (index: UInt64, request: EnergyRequest)] {
        var map: [RequestReference: (index: UInt64, request: EnergyRequest)] = [:]
        for p in pending {
            if case let .request(q) = p.entry.record { map[q.reference] = (p.index, q) }
        }
        return map
    }

    /// The request a dispatch at `index` answers: among the pending entries, else searched
    /// backwards in the store from the dispatch (`ChainStore.request(_:before:)`, usually
    /// one step: the gateway appends a request right before its dispatch).
    private func request(
        for d: Dispatch,
        at index: UInt64,
        pending: [RequestReference: (index: UInt64, request: EnergyRequest)]
    ) throws -> (index: UInt64, request: EnergyRequest)? {
        if let p = pending[d.request], p.index < index { return p }
        guard let stored = try store.request(d.request, before: index), case let .request(q) = stored.entry.record
        else { return nil }
        return (stored.index, q)
    }

    // MARK: fairness

    /// Fairness of dispatch in the window `from ≤ t < until` (nil: unbounded).
    ///
    /// A sealed dispatch is in the window when its block's last timestamp is (the gateway
    /// time of the block's last entry: the chain does not record an entry's own time, and
    /// this way consecutive windows count every block exactly once); a pending one when
    /// its journal time is. The measures are over the producers active at the window's
    /// end (those that served nothing count as 0); `current` is the TNT table now.
    package func fairness(
        from: Int64?,
        until: Int64?,
        current: TNTState,
        pending: [PendingEntry]
    ) throws -> FairnessView {
        let lower = from ?? .min
        let upper = until ?? .max
        let blocks = try store.blockCount()
        let startHeight = from == nil ? 0 : try store.firstHeight(lastTimestampAtLeast: lower)
        let endHeight = until == nil ? blocks : try store.firstHeight(lastTimestampAtLeast: upper)
        let startIndex = try firstIndex(ofHeight: startHeight)
        // Entries of blocks from `endHeight` on are after the window (nil: no such block yet).
        let endIndex: UInt64? = endHeight < blocks ? try firstIndex(ofHeight: endHeight) : nil

        var dispatches: [Dispatch] = []
        var seen = Set<UInt64>()
        if startHeight < endHeight {
            var next = startIndex
            page: while true {
                let stored = try store.dispatches(fromIndex: next, limit: 1000)
                for s in stored {
                    if let endIndex, s.index >= endIndex { break page }
                    if case let .dispatch(d) = s.entry.record { dispatches.append(d) }
                    seen.insert(s.index)
                }
                guard let last = stored.last else { break }
                next = last.index + 1
            }
        }
        for p in pending
        where p.time >= lower && p.time < upper && p.index < (endIndex ?? .max) && !seen.contains(p.index) {
            if case let .dispatch(d) = p.entry.record { dispatches.append(d) }
        }

        let counted = try producersActive(
            before: until == nil ? nil : endIndex ?? .max,
            until: upper,
            current: current,
            pending: pending
        )
        let window = FairnessWindow(dispatches: dispatches, producers: counted)
        let rows = window.producers.map { id in
            let t = window.totals[id] ?? ProducerWindowTotals()
            return FairnessRowView(
                producer: id.hex,
                counted: counted.contains(id),
                dispatches: t.dispatches,
                energyWh: t.energyWh,
                tnt: current.status(of: id)?.tnt ?? 0
            )
        }
        let measured = rows.filter(\.counted)
        let report = FairnessReport(
            dispatchCounts: measured.map(\.dispatches),
            energyServedWh: measured.map(\.energyWh)
        )
        let servedCount = dispatches.filter { !$0.outcome.shares.isEmpty }.count
        return FairnessView(
            from: from,
            until: until,
            fromTime: from.map(isoTime),
            untilTime: until.map(isoTime),
            dispatches: dispatches.count,
            served: servedCount,
            unserved: dispatches.count - servedCount,
            producerCount: report.producerCount,
            dispatchSpread: report.countSpread,
            currentTNTSpread: Fairness.spread(current.producerTable().filter(\.status.active).map(\.status.tnt)),
            energyJain: report.energyJain,
            energyGini: report.energyGini,
            energyHoover: report.energyHoover,
            producers: rows
        )
    }

    /// Global index of the first entry of the block at `height` (the tree size when there
    /// is no such block).
    package func firstIndex(ofHeight height: UInt64) throws -> UInt64 {
        if let header = try store.header(atHeight: height) {
            return header.header.treeSize - UInt64(header.header.entryCount)
        }
        return try store.tip()?.treeSize ?? 0
    }

    /// Producers active after the sealed entries below `endIndex` and the pending entries
    /// before `until`, by replaying enrollments and revocations in index order; nil
    /// `endIndex`: now, from the current TNT table.
    private func producersActive(
        before endIndex: UInt64?,
        until: Int64,
        current: TNTState,
        pending: [PendingEntry]
    ) throws -> Set<MeterID> {
        guard let endIndex else {
            return Set(current.producerTable(orderedBy: .id).filter(\.status.active).map(\.meter))
        }
        var events: [(index: UInt64, record: Record)] = []
        for type in [RecordType.enrollment, .revocation] {
            var from: UInt64 = 0
            while from < endIndex {
                let page = try store.entries(ofType: type, fromIndex: from, limit: 1000)
                for s in page where s.index < endIndex { events.append((s.index, s.entry.record)) }
                guard let last = page.last else { break }
                from = last.index + 1
            }
        }
        let seen = Set(events.map(\.index))
        for p in pending where p.time < until && p.index < endIndex && !seen.contains(p.index) {
            switch p.entry.record {
            case .enrollment, .revocation: events.append((p.index, p.entry.record))
            default: break
            }
        }
        var active = Set<MeterID>()
        for event in events.sorted(by: { $0.index < $1.index }) {
            switch event.record {
            case let .enrollment(e) where e.role == .producer: active.insert(e.meter)
            case let .revocation(r) where r.role == .producer: active.remove(r.meter)
            default: break
            }
        }
        return active
    }
}

/// The TNT table at the chain tip plus the journal's pending entries, for `inspect` (the
/// running gateway has it in memory: `ChainWriter.tntState()`).
package struct TradeSnapshot {
    /// After every sealed and pending entry.
    package var tnt: TNTState
    /// Sealed blocks replayed.
    package var blocks: UInt64
    /// Journaled entries past the sealed ones, in index order (applied too).
    package var pending: [PendingEntry]
}

extension ReadOnlyChain {
    /// The journal's rows, decoded, in index order (none when there is no journal).
    /// Unlike `journalEntries()` this reports a journal it cannot read.
    package func journalRows() throws -> [PendingEntry] {
        guard FileManager.default.fileExists(atPath: directory.journalPath) else { return [] }
        let rows: [PendingJournal.Entry]
        do { rows = try PendingJournal(path: directory.journalPath).entries() } catch {
            throw ChainReadError.journalUnreadable(path: directory.journalPath, underlying: "\(error)")
        }
        return try rows.map { row in
            do {
                return PendingEntry(index: row.index, time: row.time, entry: try SignedRecord(bytes: row.bytes))
            } catch {
                throw ChainReadError.journalUndecodable(
                    path: directory.journalPath,
                    index: row.index,
                    underlying: "\(error)"
                )
            }
        }
    }

    /// Journaled entries not yet in a sealed block. The journal is read before the store's
    /// tip, so an entry sealed in between is dropped here rather than missed.
    package func unsealedEntries() throws -> [PendingEntry] {
        let rows = try journalRows()
        let treeSize = try store.tip()?.treeSize ?? 0
        return rows.filter { $0.index >= treeSize }
    }

    /// Replays the stored chain block by block through `ChainState` (the chain rules and
    /// the TNT machine; signatures are not checked: this is a view, `verify` checks them),
    /// then the journal's pending entries. Readings are applied too: producers' export
    /// counters are part of the table.
    package func tradeSnapshot() throws -> TradeSnapshot {
        let rows = try journalRows()  // before the store: see `unsealedEntries()`
        var state = ChainState(gatewayKey: gatewayKey)
        var height: UInt64 = 0
        var treeSize: UInt64 = 0
        while let block = try store.block(atHeight: height) {
            for (offset, entry) in block.entries.enumerated() {
                do { try state.apply(entry) } catch {
                    throw ChainReadError.chainDoesNotReplay(
                        height: height,
                        index: block.firstEntryIndex + UInt64(offset),
                        error
                    )
                }
            }
            treeSize = block.header.header.treeSize
            height += 1
        }
        let pending = rows.filter { $0.index >= treeSize }
        for (offset, p) in pending.enumerated() {
            guard p.index == treeSize + UInt64(offset) else {
                throw ChainReadError.journalSkips(
                    path: directory.journalPath,
                    expected: treeSize + UInt64(offset),
                    found: p.index
                )
            }
            do { try state.apply(p.entry) } catch {
                throw ChainReadError.pendingBreaksRules(path: directory.journalPath, index: p.index, error)
            }
        }
        return TradeSnapshot(tnt: state.tnt, blocks: height, pending: pending)
    }
}

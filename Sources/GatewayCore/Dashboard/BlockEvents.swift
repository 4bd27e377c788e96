import GridAPI
import LedgerLite
import Synchronization

/// The block events of the gateway's event stream, read from the chain store on the reader
/// threads (never on the chain writer) and kept for the newest few heights, so that every
/// open stream costs one read of a block, not one each.
package final class BlockEvents: Sendable {
    private let readers: ReaderPool
    private let queries: ChainQueries
    private let recent = Mutex<[UInt64: BlockEventView]>([:])
    /// Heights kept; streams catching up further back read again.
    static let kept: UInt64 = 32

    package init(readers: ReaderPool, queries: ChainQueries) {
        self.readers = readers
        self.queries = queries
    }

    /// The event of the stored block at `height`, with its household parts only when
    /// `household`; nil when the store holds no such block.
    /// - Throws: `ReaderPool.Busy`, or the store's error.
    package func event(at height: UInt64, household: Bool) async throws -> BlockEventView? {
        var event = recent.withLock { $0[height] }
        if event == nil {
            let queries = self.queries
            event = try await readers.run { try queries.blockEvent(height) }
            if let event {
                recent.withLock { kept in
                    kept[height] = event
                    let newest = max(height, kept.keys.max() ?? height)
                    kept = kept.filter { $0.key + Self.kept > newest }
                }
            }
        }
        guard var event else { return nil }
        if !household {
            event.readings = nil
            event.anomalies = nil
        }
        return event
    }
}

extension ChainQueries {
    /// The dashboard's view of the stored block at `height`: its header, its entries counted
    /// by type, each meter's newest reading in it and its anomalies; nil when it is not stored.
    package func blockEvent(_ height: UInt64) throws -> BlockEventView? {
        guard let block = try store.block(atHeight: height) else { return nil }
        var types: [String: Int] = [:]
        var newest: [MeterID: StoredReadingView] = [:]
        var anomalies: [AnomalyEntryView] = []
        for (offset, entry) in block.entries.enumerated() {
            types[entry.record.type.description, default: 0] += 1
            let index = block.firstEntryIndex + UInt64(offset)
            switch entry.record {
            case let .reading(r):
                if let kept = newest[r.meter], kept.reading.sequence >= r.sequence { continue }
                newest[r.meter] = StoredReadingView(index: index, height: height, sealed: true, reading: ReadingView(r))
            case let .anomaly(a):
                anomalies.append(AnomalyEntryView(index: index, height: height, sealed: true, anomaly: AnomalyView(a)))
            default:
                continue
            }
        }
        return BlockEventView(
            header: HeaderView(block.header),
            entryTypes: types,
            readings: newest.values.sorted { $0.reading.meter < $1.reading.meter },
            anomalies: anomalies
        )
    }
}

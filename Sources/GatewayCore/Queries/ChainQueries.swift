import Foundation
import GridAPI
import LedgerLite
import LedgerStore

/// Read-only look-ups shared by the HTTP API (with the running writer's pending entries)
/// and `edge-gateway inspect` (store only). Every call blocks on SQLite: run on a thread
/// of your own.
package struct ChainQueries: Sendable {
    package let store: ChainStore
    /// The super node's checkpoints (receipts carry the one of their block); nil when there is no store.
    package var checkpoints: CheckpointStore? = nil

    package func blocks(from: UInt64?, limit: Int) throws -> BlockListView {
        let count = try store.blockCount()
        let limit = max(1, min(limit, 1000))
        let start = from ?? (count > UInt64(limit) ? count - UInt64(limit) : 0)
        var headers: [HeaderView] = []
        var h = start
        while h < count, headers.count < limit, let header = try store.header(atHeight: h) {
            headers.append(HeaderView(header))
            h += 1
        }
        return BlockListView(blocks: headers, tip: count == 0 ? nil : count - 1, next: h < count ? h : nil)
    }

    package func block(_ height: UInt64) throws -> BlockView? {
        try store.block(atHeight: height).map(BlockView.init)
    }

    package func readings(
        meter: MeterID,
        from: Int64,
        until: Int64,
        limit: Int,
        pending: [PendingEntry]
    ) throws -> MeterReadingsView {
        var list = try store.readings(meter: meter, from: from, until: until, limit: limit).compactMap {
            stored -> StoredReadingView? in
            guard case let .reading(r) = stored.entry.record else { return nil }
            return StoredReadingView(index: stored.index, height: stored.height, sealed: true, reading: ReadingView(r))
        }
        // A block may reach the store between taking `pending` and reading the store.
        let stored = Set(list.map(\.index))
        for p in pending where list.count < limit && !stored.contains(p.index) {
            if case let .reading(r) = p.entry.record, r.meter == meter, r.timestamp >= from, r.timestamp < until {
                list.append(StoredReadingView(index: p.index, height: nil, sealed: false, reading: ReadingView(r)))
            }
        }
        return MeterReadingsView(meter: meter.hex, from: from, until: until, readings: list)
    }

    package func anomalies(from: UInt64, limit: Int, pending: [PendingEntry]) throws -> AnomalyListView {
        let limit = max(1, min(limit, 1000))
        var list = try store.anomalies(fromIndex: from, limit: limit).compactMap { stored -> AnomalyEntryView? in
            guard case let .anomaly(a) = stored.entry.record else { return nil }
            return AnomalyEntryView(index: stored.index, height: stored.height, sealed: true, anomaly: AnomalyView(a))
        }
        let stored = Set(list.map(\.index))
        for p in pending where p.index >= from && list.count < limit && !stored.contains(p.index) {
            if case let .anomaly(a) = p.entry.record {
                list.append(AnomalyEntryView(index: p.index, height: nil, sealed: false, anomaly: AnomalyView(a)))
            }
        }
        let next = list.count == limit ? list.last.map { $0.index + 1 } : nil
        return AnomalyListView(anomalies: list, next: next)
    }

    package enum ReceiptLookup {
        case receipt(ReceiptView)
        case notFound
    }

    /// The receipt of a sealed reading; nil when it is not in a block.
    package func receipt(
        meter: MeterID,
        sequence: UInt64,
        gatewayKey: PublicIdentity,
        proof: (UInt64, UInt64) throws -> InclusionProof
    ) throws -> ReceiptView? {
        guard let stored = try store.reading(meter: meter, sequence: sequence),
            case let .reading(r) = stored.entry.record,
            try store.archivedSegment(containingIndex: stored.index) == nil,
            let header = try store.header(atHeight: stored.height)
        else { return nil }
        let inclusion = try proof(stored.index, header.header.treeSize)
        // A damaged store must not hand out a receipt that fails its holder's check later.
        guard inclusion.verify(leafHash: stored.entry.leafHash, root: header.header.merkleRoot) else {
            throw ChainStoreError.merkleRootMismatch(height: stored.height)
        }
        let checkpoint = try checkpoints?.checkpoint(height: stored.height).map { CheckpointEntryView($0) }
        return ReceiptView(
            meter: meter.hex,
            sequence: sequence,
            record: Data(stored.entry.bytes).base64EncodedString(),
            entryIndex: stored.index,
            leafHash: stored.entry.leafHash.hex,
            block: .init(
                height: stored.height,
                signedHeader: Data(header.bytes).base64EncodedString(),
                header: HeaderView(header)
            ),
            proof: ProofView(inclusion),
            gatewayKey: KeyFile.publicKeyLine(gatewayKey),
            reading: ReadingView(r),
            checkpoint: checkpoint,
            checkpointed: checkpoint != nil
        )
    }

    /// Where the reading went when `edge-gateway archive` pruned it from the live store (a
    /// line naming its segment and blocks); nil when it was never archived.
    /// A reading still in the store whose block was archived counts too: its proof is the
    /// segment's (the store no longer holds the leaves of its neighbours).
    package func archivedReadingNote(meter: MeterID, sequence: UInt64) throws -> String? {
        let index: UInt64
        let segment: ChainStore.ArchivedSegmentRow?
        if let archived = try store.archivedReading(meter: meter, sequence: sequence) {
            (index, segment) = (archived.index, archived.segment)
        } else if let stored = try store.reading(meter: meter, sequence: sequence),
            let holding = try store.archivedSegment(containingIndex: stored.index)
        {
            (index, segment) = (stored.index, holding)
        } else {
            return nil
        }
        let place =
            segment.map {
                "in segment \($0.name) (blocks \($0.firstHeight)–\($0.lastHeight))"
            } ?? "in a segment this store no longer lists"
        return
            "reading \(sequence) of meter \(meter.hex) (entry \(index)) is archived \(place); its proof is checked offline with `edge-gateway verify-archive DIR --entry \(index)` on the archive directory"
    }

    package init(store: ChainStore, checkpoints: CheckpointStore? = nil) {
        self.store = store
        self.checkpoints = checkpoints
    }
}

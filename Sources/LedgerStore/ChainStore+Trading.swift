import Foundation
import GRDB
import LedgerLite

/// Read-side look-ups for energy trading: dispatches by consumer or newest first, the
/// request a dispatch answers, and blocks by time. Like the rest of `ChainStore`, every
/// method blocks on SQLite.
extension ChainStore {
    /// Dispatch entries in index order, optionally only those answering `consumer`'s
    /// requests (through the `dispatch` look-up table).
    ///
    /// - Parameters:
    ///   - fromIndex: ascending: the first index to return; descending: return indices below
    ///     it (nil: from the newest).
    ///   - descending: newest first (then reverse the page to show it oldest first).
    public func dispatches(
        consumer: MeterID?,
        fromIndex: UInt64?,
        limit: Int,
        descending: Bool = false
    ) throws -> [StoredEntry] {
        var conditions: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        let table: String
        if let consumer {
            table = "dispatch d JOIN entry e ON e.idx = d.idx"
            conditions.append("d.consumer = ?")
            values.append(Data(consumer.bytes))
        } else {
            table = "entry e"
            conditions.append("e.type = ?")
            conditions.append("e.\(Self.typeIndexed(.dispatch))")
            values.append(Int64(RecordType.dispatch.rawValue))
        }
        if let fromIndex {
            conditions.append(descending ? "e.idx < ?" : "e.idx >= ?")
            values.append(Int64(bitPattern: fromIndex))
        }
        values.append(limit)
        let arguments = StatementArguments(values)
        let sql =
            "SELECT e.idx, e.height, e.bytes FROM \(table) WHERE \(conditions.joined(separator: " AND ")) ORDER BY e.idx \(descending ? "DESC" : "ASC") LIMIT ?"
        return try reader.read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(StoredEntry.init(row:))
        }
    }

    /// The request `request`, searched backwards from the entry before `index` (a
    /// dispatch's own index: the request precedes it). The gateway appends each request
    /// right before its dispatch, so the search usually stops at the first request entry
    /// it looks at; it relies on no such order, only on requests being signed by their
    /// consumer (the envelope's signer, bytes 2…17) and on the Request layout (docs/FORMATS.md:
    /// the sequence is body bytes 18…25, envelope bytes 40…47). The match is decoded and
    /// checked before it is returned.
    public func request(_ request: RequestReference, before index: UInt64) throws -> StoredEntry? {
        var sequence = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { sequence[i] = UInt8(truncatingIfNeeded: request.sequence >> (56 - 8 * UInt64(i))) }
        let found = try reader.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT idx, height, bytes FROM entry
                    WHERE type = ? AND \(Self.typeIndexed(.request)) AND idx < ?
                        AND substr(bytes, 3, 16) = ? AND substr(bytes, 41, 8) = ?
                    ORDER BY idx DESC LIMIT 1
                    """,
                arguments: [
                    Int64(RecordType.request.rawValue), Int64(bitPattern: index), Data(request.consumer.bytes),
                    Data(sequence),
                ]
            )
            .map(StoredEntry.init(row:))
        }
        guard let found, case let .request(q) = found.entry.record, q.reference == request else { return nil }
        return found
    }

    /// The lowest height whose block's last timestamp is at least `time`, or the block
    /// count when there is none. A binary search by height (O(log n) row reads): block last
    /// timestamps never decrease along a chain (docs/FORMATS.md, "Block header").
    public func firstHeight(lastTimestampAtLeast time: Int64) throws -> UInt64 {
        try reader.read { db in
            let read = try db.cachedStatement(sql: "SELECT last_ts FROM block WHERE height = ?")
            var low: Int64 = 0
            var high = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM block") ?? 0
            while low < high {
                let mid = low + (high - low) / 2
                let last = try Int64.fetchOne(read, arguments: [mid]) ?? .max
                if last >= time { high = mid } else { low = mid + 1 }
            }
            return UInt64(low)
        }
    }
}

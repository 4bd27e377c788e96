import Foundation
import GRDB
import LedgerLite

/// The OCMF strings a gateway received, beside its chain: the chain holds each meter's
/// `OCMFCommitment` (the string's SHA-256), this archive the string itself, so an export
/// can hand out what the meter signed and prove by the chain that it arrived.
///
/// A gateway writes a group's strings here (one transaction, WAL, `synchronous = FULL`)
/// before it writes their commitments to the pending journal, so no commitment is ever
/// durable without its string. A row whose commitment never became durable (the journal
/// write failed after this one) is an orphan: the chain entry at its `index` is then
/// another one, and readers check the envelope against the chain (`ChainStore`) before
/// they trust a row. A later commitment of the same meter and pagination replaces it.
///
/// Table `document(meter BLOB, pagination INTEGER, idx INTEGER, period_start INTEGER,
/// period_end INTEGER, envelope BLOB, text TEXT)`, keyed by (meter, pagination), indexed
/// by (meter, period_start). Every method blocks on SQLite: call it from a thread of your
/// own, never from the cooperative pool.
public final class OCMFArchive: Sendable {
    /// One received OCMF document and where its commitment is on the chain.
    public struct Document: Hashable, Sendable {
        /// The meter that signed it.
        public var meter: MeterID
        /// Its pagination number (`T` and this in the string).
        public var pagination: UInt64
        /// The global chain index of its commitment.
        public var index: UInt64
        /// The settlement period's start, ms UTC.
        public var periodStart: Int64
        /// The settlement period's end (exclusive), ms UTC.
        public var periodEnd: Int64
        /// The commitment's signed envelope, verbatim.
        public var envelope: [UInt8]
        /// The OCMF string, verbatim.
        public var text: String

        /// Creates a row.
        public init(
            meter: MeterID,
            pagination: UInt64,
            index: UInt64,
            periodStart: Int64,
            periodEnd: Int64,
            envelope: [UInt8],
            text: String
        ) {
            self.meter = meter
            self.pagination = pagination
            self.index = index
            self.periodStart = periodStart
            self.periodEnd = periodEnd
            self.envelope = envelope
            self.text = text
        }
    }

    /// Path of the SQLite file.
    public let path: String
    let pool: DatabasePool

    /// Opens (creating if needed) the archive at `path`.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("ocmf-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE document (
                        meter BLOB NOT NULL,
                        pagination INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        period_start INTEGER NOT NULL,
                        period_end INTEGER NOT NULL,
                        envelope BLOB NOT NULL,
                        text TEXT NOT NULL,
                        PRIMARY KEY (meter, pagination)
                    );
                    CREATE INDEX document_period ON document (meter, period_start);
                    """
            )
        }
        try migrator.migrate(pool)
    }

    /// Writes `documents` in one durable transaction (all or none), replacing rows of the
    /// same meter and pagination.
    public func save(_ documents: [Document]) throws {
        guard !documents.isEmpty else { return }
        try pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO document (meter, pagination, idx, period_start, period_end, envelope, text)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
            )
            for d in documents {
                try insert.execute(arguments: [
                    Data(d.meter.bytes), Int64(bitPattern: d.pagination), Int64(bitPattern: d.index), d.periodStart,
                    d.periodEnd, Data(d.envelope), d.text,
                ])
            }
        }
    }

    /// The row of `meter`'s document `pagination`, if any (it may be an orphan: see the type).
    public func document(meter: MeterID, pagination: UInt64) throws -> Document? {
        try pool.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM document WHERE meter = ? AND pagination = ?",
                arguments: [Data(meter.bytes), Int64(bitPattern: pagination)]
            ).map(document)
        }
    }

    /// `meter`'s rows whose period lies within `from ..< until` (ms UTC), by pagination, at
    /// most `limit`; read through the (meter, period_start) index, so the cost follows the
    /// rows in the window, not the archive's size.
    public func documents(meter: MeterID, from: Int64, until: Int64, limit: Int) throws -> [Document] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM document
                    WHERE meter = ? AND period_start >= ? AND period_start < ? AND period_end <= ?
                    ORDER BY period_start, pagination LIMIT ?
                    """,
                arguments: [Data(meter.bytes), from, until, until, limit]
            ).map(document)
        }
    }

    /// A row whose meter is not 16 bytes: the file was edited by something else.
    public struct DamagedRow: Error, CustomStringConvertible {
        /// The archive's path.
        public let path: String
        public var description: String {
            "\(path) holds an OCMF document whose meter id is not 16 bytes; restore the file from a backup"
        }
    }

    private func document(_ row: Row) throws -> Document {
        guard let meter = MeterID(bytes: Array(row["meter"] as Data)) else { throw DamagedRow(path: path) }
        return Document(
            meter: meter,
            pagination: UInt64(bitPattern: row["pagination"]),
            index: UInt64(bitPattern: row["idx"]),
            periodStart: row["period_start"],
            periodEnd: row["period_end"],
            envelope: Array(row["envelope"] as Data),
            text: row["text"]
        )
    }
}

import Executors
import Foundation
import GRDB
import LedgerLite
import PrivateFiles

/// Signed readings waiting for the gateway's acknowledgement, on disk (SQLite, WAL,
/// `synchronous = FULL`).
///
/// A reading is stored, with its meter's new sequence number, in one transaction
/// before anything is sent, and deleted only once the gateway acknowledged it. A restart
/// resumes each meter's sequence where it stopped; an outage loses nothing. When the
/// outbox holds `capacity` readings, `append` refuses new ones (`OutboxFull`) rather
/// than dropping old ones: the caller counts and logs the skipped poll, and the next
/// stored reading's cumulative energy counters still cover the gap.
///
/// SQLite calls block (fsync): the actor runs on a thread of its own.
package actor Outbox {
    /// A stored, unacknowledged reading.
    package struct Item: Sendable {
        package let id: Int64
        package let meter: String
        package let sequence: UInt64
        package let bytes: [UInt8]
    }

    package struct OutboxFull: Error, CustomStringConvertible {
        package let capacity: Int
        package var description: String {
            "the outbox holds \(capacity) unacknowledged readings (its limit); is the gateway reachable?"
        }
    }

    /// A reading the gateway rejected for good, kept for the operator.
    package struct DeadLetter: Sendable {
        package let meter: String
        package let sequence: UInt64
        package let reason: String
    }

    package let path: String
    package let capacity: Int
    /// Yields after each append, for the one forwarder that sends what the outbox holds: it
    /// waits here instead of asking the database while the outbox is empty.
    package nonisolated let appends: AsyncStream<Void>
    private nonisolated let appended: AsyncStream<Void>.Continuation
    private nonisolated let executor: DedicatedThreadExecutor
    private let database: DatabaseQueue

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Opens (creating) `DIR/outbox.sqlite`. DIR is created with mode 0700 when it does not
    /// exist, and refused when another user owns it or group or others may write to it
    /// (`PrivateDirectory`): whoever can write there can delete or replace unsent readings.
    package init(directory: String, capacity: Int) throws {
        try PrivateDirectory.prepare(directory)
        path = (directory as NSString).appendingPathComponent("outbox.sqlite")
        self.capacity = capacity
        (appends, appended) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        executor = DedicatedThreadExecutor(name: "outbox")
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        database = try DatabaseQueue(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("outbox-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meter_sequence (meter TEXT PRIMARY KEY, last_sequence INTEGER NOT NULL);
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        meter TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        created_ms INTEGER NOT NULL,
                        bytes BLOB NOT NULL,
                        UNIQUE (meter, sequence)
                    );
                    CREATE TABLE rejected (
                        id INTEGER PRIMARY KEY,
                        meter TEXT NOT NULL,
                        sequence INTEGER NOT NULL,
                        rejected_ms INTEGER NOT NULL,
                        reason TEXT NOT NULL,
                        detail TEXT,
                        bytes BLOB NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("outbox-v2-addressee") { db in
            // The gateway this agent's readings are addressed to, once learned from it: a
            // restart while the gateway is down still signs readings for it.
            try db.execute(sql: "CREATE TABLE addressee (gateway TEXT NOT NULL)")
        }
        migrator.registerMigration("outbox-v3-ocmf") { db in
            // Each OCMF meter's last pagination number and open settlement period (JSON of
            // `OCMFPeriod`), and the signed OCMF commitments with their OCMF strings waiting
            // for the gateway: a restart continues the gap-free pagination and the open period.
            try db.execute(
                sql: """
                    CREATE TABLE ocmf_state (meter TEXT PRIMARY KEY, last_pagination INTEGER NOT NULL, open TEXT);
                    CREATE TABLE ocmf_outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        meter TEXT NOT NULL,
                        pagination INTEGER NOT NULL,
                        bytes BLOB NOT NULL,
                        ocmf TEXT NOT NULL,
                        UNIQUE (meter, pagination)
                    );
                    """
            )
        }
        try migrator.migrate(database)
    }

    deinit {
        appended.finish()
        executor.shutdown()
    }

    /// Wakes the forwarder waiting on `appends` (at a graceful shutdown, so it can stop).
    package nonisolated func wakeForwarder() { appended.yield() }

    /// Stores the record `build` makes for the meter's next sequence number, and that
    /// number, in one transaction. Returns the stored record.
    package func append(meter: MeterID, build: @Sendable (UInt64) throws -> SignedRecord) throws -> SignedRecord {
        defer { appended.yield() }
        return try database.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
            guard count < capacity else { throw OutboxFull(capacity: capacity) }
            let last =
                try UInt64.fetchOne(
                    db,
                    sql: "SELECT last_sequence FROM meter_sequence WHERE meter = ?",
                    arguments: [meter.hex]
                ) ?? 0
            let record = try build(last + 1)
            try db.execute(
                sql: "INSERT INTO outbox (meter, sequence, created_ms, bytes) VALUES (?, ?, ?, ?)",
                arguments: [meter.hex, last + 1, Int64(Date().timeIntervalSince1970 * 1000), Data(record.bytes)]
            )
            try db.execute(
                sql: """
                    INSERT INTO meter_sequence (meter, last_sequence) VALUES (?, ?)
                    ON CONFLICT(meter) DO UPDATE SET last_sequence = excluded.last_sequence
                    """,
                arguments: [meter.hex, last + 1]
            )
            return record
        }
    }

    /// The oldest unacknowledged readings, in the order they were made, at most
    /// `perMeter` of each meter: a meter whose readings must wait (not enrolled yet)
    /// cannot crowd the others out of a batch.
    package func oldest(limit: Int, perMeter: Int = 50) throws -> [Item] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, meter, sequence, bytes FROM (
                        SELECT id, meter, sequence, bytes,
                               ROW_NUMBER() OVER (PARTITION BY meter ORDER BY sequence) AS position
                        FROM outbox)
                    WHERE position <= ? ORDER BY id LIMIT ?
                    """,
                arguments: [perMeter, limit]
            ).map { row in
                Item(
                    id: row["id"],
                    meter: row["meter"],
                    sequence: row["sequence"],
                    bytes: [UInt8]((row["bytes"] as Data?) ?? Data())
                )
            }
        }
    }

    /// Deletes acknowledged readings.
    package func acknowledge(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try database.write { db in
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
                try db.execute(
                    sql: "DELETE FROM outbox WHERE id IN (\(part.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(part)
                )
            }
        }
    }

    /// Moves a reading the gateway rejected for good out of the queue, keeping it, and
    /// gives its sequence number to the meter's next reading.
    ///
    /// The chain accepts a meter's readings only without gaps, so a rejected reading must
    /// not use up its number: every later queued reading of the meter is renumbered one
    /// down and signed again by `resign` (the agent holds the meter's key), in the same
    /// transaction, and the meter's last sequence number goes down by one.
    package func deadLetter(
        _ item: Item,
        reason: String,
        detail: String?,
        resign: @Sendable (SignedRecord, UInt64) throws -> SignedRecord
    ) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO rejected (id, meter, sequence, rejected_ms, reason, detail, bytes)
                    SELECT id, meter, sequence, ?, ?, ?, bytes FROM outbox WHERE id = ?
                    """,
                arguments: [Int64(Date().timeIntervalSince1970 * 1000), reason, detail, item.id]
            )
            try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [item.id])
            let later = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, sequence, bytes FROM outbox WHERE meter = ? AND sequence > ? ORDER BY sequence
                    """,
                arguments: [item.meter, item.sequence]
            )
            for row in later {
                let sequence: UInt64 = row["sequence"]
                let record = try SignedRecord(bytes: [UInt8]((row["bytes"] as Data?) ?? Data()))
                let renumbered = try resign(record, sequence - 1)
                try db.execute(
                    sql: "UPDATE outbox SET sequence = ?, bytes = ? WHERE id = ?",
                    arguments: [sequence - 1, Data(renumbered.bytes), row["id"] as Int64]
                )
            }
            try db.execute(
                sql: "UPDATE meter_sequence SET last_sequence = last_sequence - 1 WHERE meter = ?",
                arguments: [item.meter]
            )
        }
    }

    /// Renumbers all of a meter's queued readings from `first` on, signed again by
    /// `resign`, and makes the meter's next reading follow them. For an agent whose
    /// numbering fell behind the chain's (its outbox was lost or restored from an old
    /// copy): the gateway holds other readings under those numbers.
    package func renumber(
        meter: String,
        from first: UInt64,
        resign: @Sendable (SignedRecord, UInt64) throws -> SignedRecord
    ) throws {
        try database.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, bytes FROM outbox WHERE meter = ? ORDER BY sequence",
                arguments: [meter]
            )
            // Park the old numbers out of the way of the unique (meter, sequence) index.
            try db.execute(sql: "UPDATE outbox SET sequence = -sequence WHERE meter = ?", arguments: [meter])
            var next = first
            for row in rows {
                let record = try SignedRecord(bytes: [UInt8]((row["bytes"] as Data?) ?? Data()))
                let renumbered = try resign(record, next)
                try db.execute(
                    sql: "UPDATE outbox SET sequence = ?, bytes = ? WHERE id = ?",
                    arguments: [next, Data(renumbered.bytes), row["id"] as Int64]
                )
                next += 1
            }
            try db.execute(
                sql: """
                    INSERT INTO meter_sequence (meter, last_sequence) VALUES (?, ?)
                    ON CONFLICT(meter) DO UPDATE SET last_sequence = excluded.last_sequence
                    """,
                arguments: [meter, next - 1]
            )
        }
    }

    /// Signs the meter's queued readings from `first` on again with `resign`, keeping their
    /// numbers, in one transaction: for readings the gateway refuses as they are addressed
    /// (version 1 after its transition, or addressed to the gateway the agent used before).
    package func readdress(
        meter: String,
        from first: UInt64,
        resign: @Sendable (SignedRecord, UInt64) throws -> SignedRecord
    ) throws {
        try database.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, sequence, bytes FROM outbox WHERE meter = ? AND sequence >= ? ORDER BY sequence",
                arguments: [meter, first]
            )
            for row in rows {
                let record = try SignedRecord(bytes: [UInt8]((row["bytes"] as Data?) ?? Data()))
                let resigned = try resign(record, row["sequence"])
                try db.execute(
                    sql: "UPDATE outbox SET bytes = ? WHERE id = ?",
                    arguments: [Data(resigned.bytes), row["id"] as Int64]
                )
            }
        }
    }

    /// The gateway the agent's readings were last addressed to, if it was ever recorded.
    package func addressee() throws -> GatewayID? {
        let text = try database.read { db in try String.fetchOne(db, sql: "SELECT gateway FROM addressee") }
        guard let text else { return nil }
        guard let id = GatewayID(hex: text) else { throw UnreadableAddressee(path: path, text: text) }
        return id
    }

    /// The recorded gateway id is not an id: the outbox was edited by hand.
    package struct UnreadableAddressee: Error, CustomStringConvertible {
        package let path: String
        package let text: String
        package var description: String {
            "\(path) records '\(text)' as the gateway's id, which is not 32 hex digits; give the gateway's id with --gateway-id (edge-gateway init and enroll print it)"
        }
    }

    /// Records the gateway the agent's readings are addressed to.
    package func recordAddressee(_ gateway: GatewayID) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM addressee")
            try db.execute(sql: "INSERT INTO addressee (gateway) VALUES (?)", arguments: [gateway.hex])
        }
    }

    /// Readings waiting for acknowledgement.
    package func pendingCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// Readings the gateway rejected for good.
    package func rejectedCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM rejected") ?? 0 }
    }

    /// The last sequence number given to `meter` (0 before its first reading).
    package func lastSequence(of meter: MeterID) throws -> UInt64 {
        try database.read { db in
            try UInt64.fetchOne(
                db,
                sql: "SELECT last_sequence FROM meter_sequence WHERE meter = ?",
                arguments: [meter.hex]
            ) ?? 0
        }
    }

    // MARK: OCMF documents

    /// A signed OCMF commitment and its OCMF string, waiting for the gateway.
    package struct OCMFItem: Sendable {
        package let id: Int64
        package let meter: String
        package let pagination: UInt64
        package let bytes: [UInt8]
        package let ocmf: String
    }

    /// Moves `meter`'s open settlement period on by `point` and, when that finishes the
    /// period, stores the document `build` signs for it with the meter's next pagination
    /// number, all in one transaction. Returns the stored commitment, if any.
    package func recordOCMF(
        meter: MeterID,
        point: OCMFPoint,
        periodMs: Int64,
        build: @Sendable (FinishedOCMFPeriod, UInt64) throws -> (SignedRecord, String)
    ) throws -> SignedRecord? {
        let stored = try database.write { db -> SignedRecord? in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT last_pagination, open FROM ocmf_state WHERE meter = ?",
                arguments: [meter.hex]
            )
            let last: UInt64 = row?["last_pagination"] ?? 0
            let open = try (row?["open"] as String?).map {
                try JSONDecoder().decode(OCMFPeriod.self, from: Data($0.utf8))
            }
            let (next, finished) = OCMFPeriod.observe(point, open: open, length: periodMs)
            var pagination = last
            var record: SignedRecord?
            if let finished {
                pagination = last + 1
                let (signed, ocmf) = try build(finished, pagination)
                try db.execute(
                    sql: "INSERT INTO ocmf_outbox (meter, pagination, bytes, ocmf) VALUES (?, ?, ?, ?)",
                    arguments: [meter.hex, pagination, Data(signed.bytes), ocmf]
                )
                record = signed
            }
            let openText = try next.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            try db.execute(
                sql: """
                    INSERT INTO ocmf_state (meter, last_pagination, open) VALUES (?, ?, ?)
                    ON CONFLICT(meter) DO UPDATE SET last_pagination = excluded.last_pagination, open = excluded.open
                    """,
                arguments: [meter.hex, pagination, openText]
            )
            return record
        }
        if stored != nil { appended.yield() }
        return stored
    }

    /// The oldest OCMF documents waiting for the gateway, in the order they were made.
    package func oldestOCMF(limit: Int) throws -> [OCMFItem] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, meter, pagination, bytes, ocmf FROM ocmf_outbox ORDER BY id LIMIT ?",
                arguments: [limit]
            ).map { row in
                OCMFItem(
                    id: row["id"],
                    meter: row["meter"],
                    pagination: row["pagination"],
                    bytes: [UInt8]((row["bytes"] as Data?) ?? Data()),
                    ocmf: row["ocmf"]
                )
            }
        }
    }

    /// Deletes OCMF documents the gateway acknowledged.
    package func acknowledgeOCMF(_ ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        try database.write { db in
            for id in ids { try db.execute(sql: "DELETE FROM ocmf_outbox WHERE id = ?", arguments: [id]) }
        }
    }

    /// OCMF documents waiting for acknowledgement.
    package func pendingOCMFCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM ocmf_outbox") ?? 0 }
    }

    /// The last OCMF pagination number given to `meter` (0 before its first document).
    package func lastOCMFPagination(of meter: MeterID) throws -> UInt64 {
        try database.read { db in
            try UInt64.fetchOne(
                db,
                sql: "SELECT last_pagination FROM ocmf_state WHERE meter = ?",
                arguments: [meter.hex]
            ) ?? 0
        }
    }
}

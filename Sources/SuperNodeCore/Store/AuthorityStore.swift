import Foundation
import GRDB
import LedgerLite

/// The super node's SQLite store (GRDB, WAL, `synchronous = FULL`): issued certificates,
/// revocations, every accepted block with its checkpoint, per gateway, and the value
/// verification's flags and suspensions. Signed bytes are
/// kept verbatim; the other columns are indexes derived from them. docs/SUPERNODE.md,
/// "Data directory".
package final class AuthorityStore: Sendable {
    package let pool: DatabasePool
    /// The SQLite file.
    package let path: String

    package init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("authority-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE certificate (
                        serial INTEGER PRIMARY KEY,
                        gateway BLOB NOT NULL,
                        public_key BLOB NOT NULL,
                        name TEXT NOT NULL,
                        issued_at INTEGER NOT NULL,
                        bytes BLOB NOT NULL
                    );
                    CREATE INDEX certificate_by_gateway ON certificate(gateway, serial);
                    CREATE TABLE revocation (
                        serial INTEGER PRIMARY KEY REFERENCES certificate(serial),
                        revoked_at INTEGER NOT NULL
                    );
                    CREATE TABLE gateway_block (
                        gateway BLOB NOT NULL,
                        height INTEGER NOT NULL,
                        hash BLOB NOT NULL,
                        block BLOB NOT NULL,
                        checkpoint BLOB NOT NULL,
                        PRIMARY KEY (gateway, height)
                    );
                    """
            )
        }
        migrator.registerMigration("authority-v2-endpoints") { db in
            try db.execute(
                sql: """
                    CREATE TABLE gateway_endpoint (
                        gateway BLOB PRIMARY KEY,
                        url TEXT NOT NULL,
                        announced_at INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("authority-v3-value-flags") { db in
            try db.execute(
                sql: """
                    CREATE TABLE value_flag (
                        gateway BLOB NOT NULL,
                        height INTEGER NOT NULL,
                        producer BLOB NOT NULL,
                        dispatched_wh INTEGER NOT NULL,
                        exported_wh INTEGER NOT NULL,
                        tolerance_wh INTEGER NOT NULL,
                        chain_tolerance_wh INTEGER NOT NULL,
                        flagged_at INTEGER NOT NULL,
                        PRIMARY KEY (gateway, height, producer)
                    );
                    CREATE TABLE suspension (
                        id INTEGER PRIMARY KEY,
                        gateway BLOB NOT NULL,
                        suspended_at INTEGER NOT NULL,
                        height INTEGER NOT NULL,
                        flag_count INTEGER NOT NULL,
                        reinstated_at INTEGER,
                        reinstated_height INTEGER,
                        note TEXT
                    );
                    CREATE INDEX suspension_by_gateway ON suspension(gateway, id);
                    """
            )
        }
        migrator.registerMigration("authority-v4-escalations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE escalation (
                        decision_id INTEGER PRIMARY KEY,
                        request_hash BLOB NOT NULL,
                        consumer_gateway BLOB NOT NULL,
                        consumer BLOB NOT NULL,
                        request_sequence INTEGER NOT NULL,
                        energy_wh INTEGER NOT NULL,
                        producer_gateway BLOB NOT NULL,
                        producer BLOB NOT NULL,
                        status TEXT NOT NULL,
                        decided_at INTEGER NOT NULL,
                        producer_tnt_before INTEGER,
                        detail TEXT,
                        bytes BLOB NOT NULL
                    );
                    CREATE INDEX escalation_by_request ON escalation(request_hash, decision_id);
                    CREATE UNIQUE INDEX escalation_committed ON escalation(request_hash) WHERE status = 'committed';
                    """
            )
        }
        migrator.registerMigration("authority-v5-checkpoint-log") { db in
            try CheckpointLog.createTables(db)
            try CheckpointLog.backfill(db)
        }
        // Stores written before it have no audit snapshot: each gateway's chain is replayed
        // once at the next start-up, which then writes one (`GatewayAudit.restore`).
        migrator.registerMigration("authority-v6-audit-snapshot") { db in
            try createAuditSnapshots(db)
        }
        return migrator
    }
}

extension AuthorityStore {
    package static func certificates(
        _ db: Database,
        where clause: String = "",
        arguments: StatementArguments = []
    ) throws -> [CertificateRow] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.bytes, r.revoked_at FROM certificate c LEFT JOIN revocation r ON r.serial = c.serial
                \(clause) ORDER BY c.serial
                """,
            arguments: arguments
        )
        return try rows.map { row in
            let bytes: Data = row[0]
            return CertificateRow(signed: try SignedGatewayCertificate(bytes: Array(bytes)), revokedAt: row[1])
        }
    }

    package static func certificate(_ db: Database, serial: UInt64) throws -> CertificateRow? {
        try certificates(db, where: "WHERE c.serial = ?", arguments: [Int64(bitPattern: serial)]).first
    }

    package static func certificates(_ db: Database, gateway: GatewayID) throws -> [CertificateRow] {
        try certificates(db, where: "WHERE c.gateway = ?", arguments: [Data(gateway.bytes)])
    }

    package static func insert(_ signed: SignedGatewayCertificate, _ db: Database) throws {
        let c = signed.certificate
        try db.execute(
            sql:
                "INSERT INTO certificate (serial, gateway, public_key, name, issued_at, bytes) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [
                Int64(bitPattern: c.serial), Data(c.gateway.bytes), Data(c.gatewayKey.rawBytes), c.name, c.issuedAt,
                Data(signed.bytes),
            ]
        )
    }

    package static func nextSerial(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(serial), 0) + 1 FROM certificate") ?? 1)
    }

    package static func revoke(serial: UInt64, at time: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO revocation (serial, revoked_at) VALUES (?, ?)",
            arguments: [Int64(bitPattern: serial), time]
        )
    }

    /// The accepted block at `height` of `gateway`'s chain: its hash and signed checkpoint.
    /// An accepted block's hash, its wire bytes as accepted, and its checkpoint.
    package static func acceptedBlock(
        _ db: Database,
        gateway: GatewayID,
        height: UInt64
    ) throws -> (hash: Hash256, wireBytes: [UInt8], checkpoint: SignedCheckpoint)? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT hash, block, checkpoint FROM gateway_block WHERE gateway = ? AND height = ?",
                arguments: [Data(gateway.bytes), Int64(bitPattern: height)]
            )
        else { return nil }
        let hash: Data = row[0]
        let block: Data = row[1]
        let checkpoint: Data = row[2]
        return (Hash256(bytes: hash) ?? .zero, Array(block), try SignedCheckpoint(bytes: Array(checkpoint)))
    }

    package static func insertBlock(_ block: Block, checkpoint: SignedCheckpoint, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO gateway_block (gateway, height, hash, block, checkpoint) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                Data(block.header.header.gateway.bytes), Int64(bitPattern: block.height), Data(block.hash.bytes),
                Data(block.wireBytes()), Data(checkpoint.bytes),
            ]
        )
    }

    /// Gateways with accepted blocks. One index lookup per gateway (each the least id above
    /// the one before), not a scan of every block: start-up reads it.
    package static func auditedGateways(_ db: Database) throws -> [GatewayID] {
        try Data.fetchAll(
            db,
            sql: """
                WITH RECURSIVE audited(gateway) AS (
                    SELECT MIN(gateway) FROM gateway_block
                    UNION ALL
                    SELECT (SELECT MIN(b.gateway) FROM gateway_block b WHERE b.gateway > audited.gateway)
                    FROM audited WHERE audited.gateway IS NOT NULL
                )
                SELECT gateway FROM audited WHERE gateway IS NOT NULL
                """
        ).compactMap { KeyID(bytes: Array($0)) }
    }

    /// Whether `gateway` has any accepted block.
    package static func hasAcceptedBlocks(_ db: Database, gateway: GatewayID) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM gateway_block WHERE gateway = ?)",
            arguments: [Data(gateway.bytes)]
        ) ?? false
    }

    /// The tip of each gateway's accepted chain: one index lookup per gateway, reading only
    /// the signed header of its latest block (the bytes after the wire type and version).
    package static func acceptedTips(_ db: Database) throws -> [GatewayID: ChainTip] {
        var tips: [GatewayID: ChainTip] = [:]
        for gateway in try auditedGateways(db) {
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT height, hash, substr(block, 3, ?) FROM gateway_block
                        WHERE gateway = ? ORDER BY height DESC LIMIT 1
                        """,
                    arguments: [BlockHeader.encodedLength + 64, Data(gateway.bytes)]
                )
            else { continue }
            let height: Int64 = row[0]
            let hash: Data = row[1]
            let headerBytes: Data = row[2]
            let header = try SignedBlockHeader(bytes: Array(headerBytes)).header
            tips[gateway] = ChainTip(
                height: UInt64(bitPattern: height),
                hash: Hash256(bytes: hash) ?? .zero,
                treeSize: header.treeSize,
                lastTimestamp: header.lastTimestamp
            )
        }
        return tips
    }

    /// Calls `body` with each accepted block of `gateway` from height `first` on, in height order.
    package static func forEachBlock(
        _ db: Database,
        gateway: GatewayID,
        from first: UInt64 = 0,
        _ body: (UInt64, Block) throws -> Void
    ) throws {
        let cursor = try Row.fetchCursor(
            db,
            sql: "SELECT height, block FROM gateway_block WHERE gateway = ? AND height >= ? ORDER BY height",
            arguments: [Data(gateway.bytes), Int64(bitPattern: first)]
        )
        while let row = try cursor.next() {
            let height: Int64 = row[0]
            let bytes: Data = row[1]
            try body(UInt64(bitPattern: height), try Block(wireBytes: Array(bytes)))
        }
    }

    /// Records the URL a gateway announced in a push (the last one wins).
    package static func setEndpoint(_ url: String, gateway: GatewayID, at time: Int64, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO gateway_endpoint (gateway, url, announced_at) VALUES (?, ?, ?)
                ON CONFLICT(gateway) DO UPDATE SET url = excluded.url, announced_at = excluded.announced_at
                """,
            arguments: [Data(gateway.bytes), url, time]
        )
    }

    /// The URL each gateway last announced.
    package static func endpoints(_ db: Database) throws -> [GatewayID: String] {
        var result: [GatewayID: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT gateway, url FROM gateway_endpoint") {
            let id: Data = row[0]
            if let gateway = KeyID(bytes: Array(id)) { result[gateway] = row[1] }
        }
        return result
    }
}

extension AuthorityStore {
    package static func insertFlag(_ flag: ValueFlag, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO value_flag (gateway, height, producer, dispatched_wh, exported_wh, tolerance_wh, chain_tolerance_wh, flagged_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(flag.gateway.bytes), Int64(bitPattern: flag.height), Data(flag.producer.bytes),
                Int64(bitPattern: flag.dispatchedWh), Int64(bitPattern: flag.exportedWh),
                Int64(bitPattern: flag.toleranceWh),
                Int64(bitPattern: flag.chainToleranceWh), flag.flaggedAt,
            ]
        )
    }

    /// Every flag (of one gateway, when given), by gateway, height and producer.
    package static func flags(_ db: Database, gateway: GatewayID? = nil) throws -> [ValueFlag] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT gateway, height, producer, dispatched_wh, exported_wh, tolerance_wh, chain_tolerance_wh, flagged_at FROM value_flag
                \(gateway == nil ? "" : "WHERE gateway = ?") ORDER BY gateway, height, producer
                """,
            arguments: gateway.map { [Data($0.bytes)] } ?? []
        )
        return rows.compactMap { row in
            let g: Data = row[0]
            let p: Data = row[2]
            guard let gateway = KeyID(bytes: Array(g)), let producer = KeyID(bytes: Array(p)) else { return nil }
            let height: Int64 = row[1]
            let dispatched: Int64 = row[3]
            let exported: Int64 = row[4]
            let tolerance: Int64 = row[5]
            let chain: Int64 = row[6]
            return ValueFlag(
                gateway: gateway,
                height: UInt64(bitPattern: height),
                producer: producer,
                dispatchedWh: UInt64(bitPattern: dispatched),
                exportedWh: UInt64(bitPattern: exported),
                toleranceWh: UInt64(bitPattern: tolerance),
                chainToleranceWh: UInt64(bitPattern: chain),
                flaggedAt: row[7]
            )
        }
    }

    private static func suspension(_ row: Row) -> Suspension? {
        let g: Data = row["gateway"]
        guard let gateway = KeyID(bytes: Array(g)) else { return nil }
        let height: Int64 = row["height"]
        let reinstatedHeight: Int64? = row["reinstated_height"]
        return Suspension(
            gateway: gateway,
            suspendedAt: row["suspended_at"],
            height: UInt64(bitPattern: height),
            flagCount: row["flag_count"],
            reinstatedAt: row["reinstated_at"],
            reinstatedHeight: reinstatedHeight.map { UInt64(bitPattern: $0) },
            note: row["note"]
        )
    }

    /// The gateway's suspension in force, if any.
    package static func activeSuspension(_ db: Database, gateway: GatewayID) throws -> Suspension? {
        try Row.fetchOne(
            db,
            sql: "SELECT * FROM suspension WHERE gateway = ? AND reinstated_at IS NULL ORDER BY id DESC LIMIT 1",
            arguments: [Data(gateway.bytes)]
        ).flatMap(suspension)
    }

    /// Every suspension of the gateway, lifted or not, oldest first.
    package static func suspensions(_ db: Database, gateway: GatewayID) throws -> [Suspension] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM suspension WHERE gateway = ? ORDER BY id",
            arguments: [Data(gateway.bytes)]
        ).compactMap(suspension)
    }

    /// Flagged blocks of the gateway above the height its last reinstatement recorded (all
    /// of them when it was never reinstated).
    package static func flaggedBlocksSinceReinstatement(_ db: Database, gateway: GatewayID) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT COUNT(DISTINCT height) FROM value_flag WHERE gateway = ? AND height > COALESCE(
                    (SELECT reinstated_height FROM suspension WHERE gateway = ? AND reinstated_at IS NOT NULL ORDER BY id DESC LIMIT 1), -1)
                """,
            arguments: [Data(gateway.bytes), Data(gateway.bytes)]
        ) ?? 0
    }

    /// Suspends the gateway after the flagged block `height`.
    package static func suspend(
        gateway: GatewayID,
        height: UInt64,
        flagCount: Int,
        at time: Int64,
        _ db: Database
    ) throws -> Suspension {
        try db.execute(
            sql: "INSERT INTO suspension (gateway, suspended_at, height, flag_count) VALUES (?, ?, ?, ?)",
            arguments: [Data(gateway.bytes), time, Int64(bitPattern: height), flagCount]
        )
        return Suspension(gateway: gateway, suspendedAt: time, height: height, flagCount: flagCount)
    }

    /// Lifts the gateway's suspension in force; flags count anew above the gateway's
    /// accepted chain as it stands.
    package static func reinstate(
        gateway: GatewayID,
        at time: Int64,
        note: String?,
        _ db: Database
    ) throws -> Suspension? {
        guard var active = try activeSuspension(db, gateway: gateway) else { return nil }
        let tip = try Int64.fetchOne(
            db,
            sql: "SELECT MAX(height) FROM gateway_block WHERE gateway = ?",
            arguments: [Data(gateway.bytes)]
        )
        let reinstatedHeight = max(tip.map { UInt64(bitPattern: $0) } ?? active.height, active.height)
        try db.execute(
            sql: """
                UPDATE suspension SET reinstated_at = ?, reinstated_height = ?, note = ? WHERE gateway = ? AND reinstated_at IS NULL
                """,
            arguments: [time, Int64(bitPattern: reinstatedHeight), note, Data(gateway.bytes)]
        )
        active.reinstatedAt = time
        active.reinstatedHeight = reinstatedHeight
        active.note = note
        return active
    }

    /// Every gateway's standing (gateways without flags or suspensions are absent).
    package static func valueStandings(_ db: Database) throws -> [GatewayID: ValueStanding] {
        var result: [GatewayID: ValueStanding] = [:]
        var gateways = Set<GatewayID>()
        for data in try Data.fetchAll(
            db,
            sql: "SELECT DISTINCT gateway FROM value_flag UNION SELECT DISTINCT gateway FROM suspension"
        ) {
            if let gateway = KeyID(bytes: Array(data)) { gateways.insert(gateway) }
        }
        for gateway in gateways {
            result[gateway] = try valueStanding(db, gateway: gateway)
        }
        return result
    }

    /// One gateway's standing.
    package static func valueStanding(_ db: Database, gateway: GatewayID) throws -> ValueStanding {
        ValueStanding(
            suspension: try activeSuspension(db, gateway: gateway),
            flaggedBlocks: try flaggedBlocksSinceReinstatement(db, gateway: gateway),
            flaggedBlocksTotal: try Int.fetchOne(
                db,
                sql: "SELECT COUNT(DISTINCT height) FROM value_flag WHERE gateway = ?",
                arguments: [Data(gateway.bytes)]
            ) ?? 0
        )
    }
}

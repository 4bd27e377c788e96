import Foundation
import GRDB
import LedgerLite

/// The super node's SQLite store (GRDB, WAL, `synchronous = FULL`): issued certificates,
/// revocations, and every accepted block with its checkpoint, per gateway. Signed bytes are
/// kept verbatim; the other columns are indexes derived from them. docs/SUPERNODE.md,
/// "Data directory".
final class AuthorityStore: Sendable {
    let pool: DatabasePool

    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("authority-v1") { db in
            try db.execute(sql: """
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
                """)
        }
        migrator.registerMigration("authority-v2-endpoints") { db in
            try db.execute(sql: """
                CREATE TABLE gateway_endpoint (
                    gateway BLOB PRIMARY KEY,
                    url TEXT NOT NULL,
                    announced_at INTEGER NOT NULL
                );
                """)
        }
        // Registered after every other migration (another branch adds authority-v3).
        migrator.registerMigration("authority-v4-escalations") { db in
            try db.execute(sql: """
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
                """)
        }
        return migrator
    }
}

/// A certificate as stored, with its revocation.
struct CertificateRow: Sendable {
    var signed: SignedGatewayCertificate
    var revokedAt: Int64?

    var certificate: GatewayCertificate { signed.certificate }
}

extension AuthorityStore {
    static func certificates(_ db: Database, where clause: String = "", arguments: StatementArguments = []) throws -> [CertificateRow] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT c.bytes, r.revoked_at FROM certificate c LEFT JOIN revocation r ON r.serial = c.serial
            \(clause) ORDER BY c.serial
            """, arguments: arguments)
        return try rows.map { row in
            let bytes: Data = row[0]
            return CertificateRow(signed: try SignedGatewayCertificate(bytes: Array(bytes)), revokedAt: row[1])
        }
    }

    static func certificate(_ db: Database, serial: UInt64) throws -> CertificateRow? {
        try certificates(db, where: "WHERE c.serial = ?", arguments: [Int64(bitPattern: serial)]).first
    }

    static func certificates(_ db: Database, gateway: GatewayID) throws -> [CertificateRow] {
        try certificates(db, where: "WHERE c.gateway = ?", arguments: [Data(gateway.bytes)])
    }

    static func insert(_ signed: SignedGatewayCertificate, _ db: Database) throws {
        let c = signed.certificate
        try db.execute(sql: "INSERT INTO certificate (serial, gateway, public_key, name, issued_at, bytes) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [Int64(bitPattern: c.serial), Data(c.gateway.bytes), Data(c.gatewayKey.rawBytes), c.name, c.issuedAt, Data(signed.bytes)])
    }

    static func nextSerial(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(serial), 0) + 1 FROM certificate") ?? 1)
    }

    static func revoke(serial: UInt64, at time: Int64, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO revocation (serial, revoked_at) VALUES (?, ?)", arguments: [Int64(bitPattern: serial), time])
    }

    /// The accepted block at `height` of `gateway`'s chain: its hash and signed checkpoint.
    static func acceptedBlock(_ db: Database, gateway: GatewayID, height: UInt64) throws -> (hash: Hash256, checkpoint: SignedCheckpoint)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT hash, checkpoint FROM gateway_block WHERE gateway = ? AND height = ?",
                                         arguments: [Data(gateway.bytes), Int64(bitPattern: height)]) else { return nil }
        let hash: Data = row[0]
        let checkpoint: Data = row[1]
        return (Hash256(bytes: hash) ?? .zero, try SignedCheckpoint(bytes: Array(checkpoint)))
    }

    static func insertBlock(_ block: Block, checkpoint: SignedCheckpoint, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO gateway_block (gateway, height, hash, block, checkpoint) VALUES (?, ?, ?, ?, ?)",
                       arguments: [Data(block.header.header.gateway.bytes), Int64(bitPattern: block.height), Data(block.hash.bytes),
                                   Data(block.wireBytes()), Data(checkpoint.bytes)])
    }

    /// Gateways with accepted blocks.
    static func auditedGateways(_ db: Database) throws -> [GatewayID] {
        try Data.fetchAll(db, sql: "SELECT DISTINCT gateway FROM gateway_block ORDER BY gateway").compactMap { KeyID(bytes: Array($0)) }
    }

    /// Calls `body` with each accepted block of `gateway`, in height order.
    static func forEachBlock(_ db: Database, gateway: GatewayID, _ body: (UInt64, Block) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: "SELECT height, block FROM gateway_block WHERE gateway = ? ORDER BY height",
                                         arguments: [Data(gateway.bytes)])
        while let row = try cursor.next() {
            let height: Int64 = row[0]
            let bytes: Data = row[1]
            try body(UInt64(bitPattern: height), try Block(wireBytes: Array(bytes)))
        }
    }

    /// Records the URL a gateway announced in a push (the last one wins).
    static func setEndpoint(_ url: String, gateway: GatewayID, at time: Int64, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO gateway_endpoint (gateway, url, announced_at) VALUES (?, ?, ?)
            ON CONFLICT(gateway) DO UPDATE SET url = excluded.url, announced_at = excluded.announced_at
            """, arguments: [Data(gateway.bytes), url, time])
    }

    /// The URL each gateway last announced.
    static func endpoints(_ db: Database) throws -> [GatewayID: String] {
        var result: [GatewayID: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT gateway, url FROM gateway_endpoint") {
            let id: Data = row[0]
            if let gateway = KeyID(bytes: Array(id)) { result[gateway] = row[1] }
        }
        return result
    }
}

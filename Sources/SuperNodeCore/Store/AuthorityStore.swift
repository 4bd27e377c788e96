import Foundation
import LedgerLite
import Logging

/// The super node's store: issued certificates, revocations, every accepted block with its
/// checkpoint, per gateway, the value verification's flags and suspensions, escalations, the
/// checkpoint log and audit snapshots. Signed bytes are kept verbatim; the other columns are
/// indexes derived from them. docs/SUPERNODE.md, "Data directory".
///
/// Its engine is SQLite in the data directory (the default) or a PostgreSQL server shared by
/// replicas (`serve --store postgres://…`); its SQL (the static functions below, each taking
/// a `StoreConnection`) is the same for both.
package final class AuthorityStore: Sendable {
    package let engine: any StoreEngine

    package init(engine: any StoreEngine) {
        self.engine = engine
    }

    /// Opens (creating when absent) the SQLite store at `path`.
    package convenience init(path: String) throws {
        self.init(engine: try SQLiteEngine(path: path))
    }

    /// Where the store is, for messages: a file path or a URL without its password.
    package var location: String { engine.location }

    /// Runs `body` on one consistent state of the store.
    package func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await engine.read(body)
    }

    /// Runs `body` in one write transaction.
    package func write<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await engine.session { db in try db.transaction { try body(db) } }
    }

    /// Runs `body` on a connection that writes, opening its own transactions.
    package func session<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T {
        try await engine.session(body)
    }
}

extension AuthorityStore {
    /// Binds the store to `root` the first time, and checks it every time after: replicas
    /// sharing a store must sign with the one root key its certificates are issued under.
    /// - Throws: `AuthorityError.foreignRoot` when the store names another.
    package static func requireRoot(_ root: PublicIdentity, store: String, _ db: any StoreConnection) throws {
        try db.serialize(on: .register)
        guard let stored = try db.row("SELECT key FROM store_root WHERE id = 0")?.bytes(0) else {
            try db.execute("INSERT INTO store_root (id, key) VALUES (0, ?)", [.blob(root.rawBytes)])
            return
        }
        guard stored == Array(root.rawBytes) else {
            // A key's id is the first 16 bytes of the SHA-256 of its raw bytes (`PublicIdentity.id`).
            let storedID = KeyID(bytes: Array(Hash256.sha256(stored).bytes.prefix(16)))
            throw AuthorityError.foreignRoot(store: store, stored: storedID ?? root.id, directory: root.id)
        }
    }

    package static func certificates(
        _ db: any StoreConnection,
        where clause: String = "",
        arguments: [StoreValue] = []
    ) throws -> [CertificateRow] {
        try db.rows(
            """
            SELECT c.bytes, r.revoked_at FROM certificate c LEFT JOIN revocation r ON r.serial = c.serial
            \(clause) ORDER BY c.serial
            """,
            arguments
        ).map { row in
            CertificateRow(
                signed: try SignedGatewayCertificate(bytes: try row.bytes(0)),
                revokedAt: try row.optionalInteger(1)
            )
        }
    }

    package static func certificate(_ db: any StoreConnection, serial: UInt64) throws -> CertificateRow? {
        try certificates(db, where: "WHERE c.serial = ?", arguments: [.unsigned(serial)]).first
    }

    package static func certificates(_ db: any StoreConnection, gateway: GatewayID) throws -> [CertificateRow] {
        try certificates(db, where: "WHERE c.gateway = ?", arguments: [.blob(gateway.bytes)])
    }

    package static func insert(_ signed: SignedGatewayCertificate, _ db: any StoreConnection) throws {
        let c = signed.certificate
        try db.execute(
            "INSERT INTO certificate (serial, gateway, public_key, name, issued_at, bytes) VALUES (?, ?, ?, ?, ?, ?)",
            [
                .unsigned(c.serial), .blob(c.gateway.bytes), .blob(c.gatewayKey.rawBytes), .text(c.name),
                .integer(c.issuedAt), .blob(signed.bytes),
            ]
        )
    }

    package static func nextSerial(_ db: any StoreConnection) throws -> UInt64 {
        UInt64(bitPattern: try db.integer("SELECT COALESCE(MAX(serial), 0) + 1 FROM certificate") ?? 1)
    }

    package static func revoke(serial: UInt64, at time: Int64, _ db: any StoreConnection) throws {
        try db.execute(
            "INSERT INTO revocation (serial, revoked_at) VALUES (?, ?)",
            [.unsigned(serial), .integer(time)]
        )
    }

    /// An accepted block's hash, its wire bytes as accepted, and its checkpoint.
    package static func acceptedBlock(
        _ db: any StoreConnection,
        gateway: GatewayID,
        height: UInt64
    ) throws -> (hash: Hash256, wireBytes: [UInt8], checkpoint: SignedCheckpoint)? {
        guard
            let row = try db.row(
                "SELECT hash, block, checkpoint FROM gateway_block WHERE gateway = ? AND height = ?",
                [.blob(gateway.bytes), .unsigned(height)]
            )
        else { return nil }
        guard let hash = Hash256(bytes: try row.bytes(0)) else {
            throw StoreDamage("block \(height) of gateway \(gateway.hex) has a hash of the wrong length")
        }
        return (hash, try row.bytes(1), try SignedCheckpoint(bytes: try row.bytes(2)))
    }

    package static func insertBlock(_ block: Block, checkpoint: SignedCheckpoint, _ db: any StoreConnection) throws {
        try db.execute(
            "INSERT INTO gateway_block (gateway, height, hash, block, checkpoint) VALUES (?, ?, ?, ?, ?)",
            [
                .blob(block.header.header.gateway.bytes), .unsigned(block.height), .blob(block.hash.bytes),
                .bytes(block.wireBytes()), .blob(checkpoint.bytes),
            ]
        )
    }

    /// Gateways with accepted blocks. One index lookup per gateway (each the least id above
    /// the one before), not a scan of every block: start-up reads it.
    package static func auditedGateways(_ db: any StoreConnection) throws -> [GatewayID] {
        try db.rows(
            """
            WITH RECURSIVE audited(gateway) AS (
                SELECT (SELECT gateway FROM gateway_block ORDER BY gateway LIMIT 1)
                UNION ALL
                SELECT (SELECT b.gateway FROM gateway_block b WHERE b.gateway > audited.gateway ORDER BY b.gateway LIMIT 1)
                FROM audited WHERE audited.gateway IS NOT NULL
            )
            SELECT gateway FROM audited WHERE gateway IS NOT NULL
            """
        ).compactMap { KeyID(bytes: try $0.bytes(0)) }
    }

    /// The tip of each gateway's accepted chain: one index lookup per gateway, reading only
    /// the signed header of its latest block (the bytes after the wire type and version).
    package static func acceptedTips(_ db: any StoreConnection) throws -> [GatewayID: ChainTip] {
        var tips: [GatewayID: ChainTip] = [:]
        for gateway in try auditedGateways(db) {
            guard
                let row = try db.row(
                    """
                    SELECT height, hash, substr(block, 3, \(BlockHeader.encodedLength + 64)) FROM gateway_block
                    WHERE gateway = ? ORDER BY height DESC LIMIT 1
                    """,
                    [.blob(gateway.bytes)]
                )
            else { continue }
            let header = try SignedBlockHeader(bytes: try row.bytes(2)).header
            tips[gateway] = ChainTip(
                height: try row.unsigned(0),
                hash: Hash256(bytes: try row.bytes(1)) ?? .zero,
                treeSize: header.treeSize,
                lastTimestamp: header.lastTimestamp
            )
        }
        return tips
    }

    /// How many blocks `forEachBlock` reads at a time.
    static let blockBatch = 64

    /// Calls `body` with each accepted block of `gateway` from height `first` on, in height
    /// order, reading them `blockBatch` at a time (memory stays one batch, however long the
    /// chain).
    package static func forEachBlock(
        _ db: any StoreConnection,
        gateway: GatewayID,
        from first: UInt64 = 0,
        _ body: (UInt64, Block) throws -> Void
    ) throws {
        var next = first
        while true {
            let rows = try db.rows(
                "SELECT height, block FROM gateway_block WHERE gateway = ? AND height >= ? ORDER BY height LIMIT ?",
                [.blob(gateway.bytes), .unsigned(next), .integer(Int64(blockBatch))]
            )
            for row in rows {
                let height = try row.unsigned(0)
                try body(height, try Block(wireBytes: try row.bytes(1)))
                next = height &+ 1
            }
            guard rows.count == blockBatch, next != 0 else { return }
        }
    }

    /// Records the URL a gateway announced in a push (the last one wins).
    package static func setEndpoint(
        _ url: String,
        gateway: GatewayID,
        at time: Int64,
        _ db: any StoreConnection
    )
        throws
    {
        try db.execute(
            """
            INSERT INTO gateway_endpoint (gateway, url, announced_at) VALUES (?, ?, ?)
            ON CONFLICT(gateway) DO UPDATE SET url = excluded.url, announced_at = excluded.announced_at
            """,
            [.blob(gateway.bytes), .text(url), .integer(time)]
        )
    }

    /// The URL `gateway` last announced, nil when none.
    package static func endpoint(_ db: any StoreConnection, gateway: GatewayID) throws -> String? {
        try db.row("SELECT url FROM gateway_endpoint WHERE gateway = ?", [.blob(gateway.bytes)])?.text(0)
    }

    /// The URL each gateway last announced.
    package static func endpoints(_ db: any StoreConnection) throws -> [GatewayID: String] {
        var result: [GatewayID: String] = [:]
        for row in try db.rows("SELECT gateway, url FROM gateway_endpoint") {
            if let gateway = KeyID(bytes: try row.bytes(0)) { result[gateway] = try row.text(1) }
        }
        return result
    }
}

extension AuthorityStore {
    package static func insertFlag(_ flag: ValueFlag, _ db: any StoreConnection) throws {
        try db.execute(
            """
            INSERT INTO value_flag (gateway, height, producer, dispatched_wh, exported_wh, tolerance_wh, chain_tolerance_wh, flagged_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .blob(flag.gateway.bytes), .unsigned(flag.height), .blob(flag.producer.bytes),
                .unsigned(flag.dispatchedWh), .unsigned(flag.exportedWh), .unsigned(flag.toleranceWh),
                .unsigned(flag.chainToleranceWh), .integer(flag.flaggedAt),
            ]
        )
    }

    /// Every flag (of one gateway, when given), by gateway, height and producer.
    package static func flags(_ db: any StoreConnection, gateway: GatewayID? = nil) throws -> [ValueFlag] {
        try db.rows(
            """
            SELECT gateway, height, producer, dispatched_wh, exported_wh, tolerance_wh, chain_tolerance_wh, flagged_at FROM value_flag
            \(gateway == nil ? "" : "WHERE gateway = ?") ORDER BY gateway, height, producer
            """,
            gateway.map { [.blob($0.bytes)] } ?? []
        ).compactMap { row in
            guard let gateway = KeyID(bytes: try row.bytes(0)), let producer = KeyID(bytes: try row.bytes(2)) else {
                return nil
            }
            return ValueFlag(
                gateway: gateway,
                height: try row.unsigned(1),
                producer: producer,
                dispatchedWh: try row.unsigned(3),
                exportedWh: try row.unsigned(4),
                toleranceWh: try row.unsigned(5),
                chainToleranceWh: try row.unsigned(6),
                flaggedAt: try row.integer(7)
            )
        }
    }

    private static let suspensionColumns =
        "gateway, suspended_at, height, flag_count, reinstated_at, reinstated_height, note"

    private static func suspension(_ row: StoreRow) throws -> Suspension? {
        guard let gateway = KeyID(bytes: try row.bytes(0)) else { return nil }
        return Suspension(
            gateway: gateway,
            suspendedAt: try row.integer(1),
            height: try row.unsigned(2),
            flagCount: try row.int(3),
            reinstatedAt: try row.optionalInteger(4),
            reinstatedHeight: try row.optionalUnsigned(5),
            note: try row.optionalText(6)
        )
    }

    /// The gateway's suspension in force, if any.
    package static func activeSuspension(_ db: any StoreConnection, gateway: GatewayID) throws -> Suspension? {
        try db.row(
            """
            SELECT \(suspensionColumns) FROM suspension WHERE gateway = ? AND reinstated_at IS NULL
            ORDER BY id DESC LIMIT 1
            """,
            [.blob(gateway.bytes)]
        ).flatMap(suspension)
    }

    /// Every suspension of the gateway, lifted or not, oldest first.
    package static func suspensions(_ db: any StoreConnection, gateway: GatewayID) throws -> [Suspension] {
        try db.rows(
            "SELECT \(suspensionColumns) FROM suspension WHERE gateway = ? ORDER BY id",
            [.blob(gateway.bytes)]
        ).compactMap(suspension)
    }

    /// Flagged blocks of the gateway above the height its last reinstatement recorded (all
    /// of them when it was never reinstated).
    package static func flaggedBlocksSinceReinstatement(_ db: any StoreConnection, gateway: GatewayID) throws -> Int {
        Int(
            try db.integer(
                """
                SELECT COUNT(DISTINCT height) FROM value_flag WHERE gateway = ? AND height > COALESCE(
                    (SELECT reinstated_height FROM suspension WHERE gateway = ? AND reinstated_at IS NOT NULL ORDER BY id DESC LIMIT 1), -1)
                """,
                [.blob(gateway.bytes), .blob(gateway.bytes)]
            ) ?? 0
        )
    }

    /// Suspends the gateway after the flagged block `height`.
    package static func suspend(
        gateway: GatewayID,
        height: UInt64,
        flagCount: Int,
        at time: Int64,
        _ db: any StoreConnection
    ) throws -> Suspension {
        try db.execute(
            "INSERT INTO suspension (gateway, suspended_at, height, flag_count) VALUES (?, ?, ?, ?)",
            [.blob(gateway.bytes), .integer(time), .unsigned(height), .integer(Int64(flagCount))]
        )
        return Suspension(gateway: gateway, suspendedAt: time, height: height, flagCount: flagCount)
    }

    /// Lifts the gateway's suspension in force; flags count anew above the gateway's
    /// accepted chain as it stands.
    package static func reinstate(
        gateway: GatewayID,
        at time: Int64,
        note: String?,
        _ db: any StoreConnection
    ) throws -> Suspension? {
        guard var active = try activeSuspension(db, gateway: gateway) else { return nil }
        let tip = try AuthorityStore.acceptedTipHeight(db, gateway: gateway)
        let reinstatedHeight = max(tip ?? active.height, active.height)
        try db.execute(
            """
            UPDATE suspension SET reinstated_at = ?, reinstated_height = ?, note = ? WHERE gateway = ? AND reinstated_at IS NULL
            """,
            [.integer(time), .unsigned(reinstatedHeight), .optional(note.map { .text($0) }), .blob(gateway.bytes)]
        )
        active.reinstatedAt = time
        active.reinstatedHeight = reinstatedHeight
        active.note = note
        return active
    }

    /// Every gateway's standing (gateways without flags or suspensions are absent).
    package static func valueStandings(_ db: any StoreConnection) throws -> [GatewayID: ValueStanding] {
        var result: [GatewayID: ValueStanding] = [:]
        var gateways = Set<GatewayID>()
        for row in try db.rows("SELECT DISTINCT gateway FROM value_flag UNION SELECT DISTINCT gateway FROM suspension")
        {
            if let gateway = KeyID(bytes: try row.bytes(0)) { gateways.insert(gateway) }
        }
        for gateway in gateways {
            result[gateway] = try valueStanding(db, gateway: gateway)
        }
        return result
    }

    /// One gateway's standing.
    package static func valueStanding(_ db: any StoreConnection, gateway: GatewayID) throws -> ValueStanding {
        ValueStanding(
            suspension: try activeSuspension(db, gateway: gateway),
            flaggedBlocks: try flaggedBlocksSinceReinstatement(db, gateway: gateway),
            flaggedBlocksTotal: Int(
                try db.integer(
                    "SELECT COUNT(DISTINCT height) FROM value_flag WHERE gateway = ?",
                    [.blob(gateway.bytes)]
                ) ?? 0
            )
        )
    }
}

import Foundation
import GRDB
import LedgerLite

/// The authority store's schema, for both engines: SQLite's migrations (GRDB's migrator, as
/// they were added over versions) and PostgreSQL's (`postgresMigrations`). Tables are the
/// same in both; docs/SUPERNODE.md, "Data directory", says what each holds.
package enum AuthoritySchema {
    package static var sqliteMigrator: DatabaseMigrator {
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
            try db.execute(
                sql: """
                    CREATE TABLE log_entry (
                        idx INTEGER PRIMARY KEY,
                        bytes BLOB NOT NULL
                    );
                    CREATE TABLE log_tile (
                        level INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        hashes BLOB NOT NULL,
                        PRIMARY KEY (level, idx)
                    ) WITHOUT ROWID;
                    CREATE TABLE log_head (
                        id INTEGER PRIMARY KEY CHECK (id = 0),
                        size INTEGER NOT NULL,
                        root BLOB NOT NULL
                    );
                    """
            )
            try db.execute(
                sql: "INSERT INTO log_head (id, size, root) VALUES (0, 0, ?)",
                arguments: [Data(Merkle.emptyRoot.bytes)]
            )
            try CheckpointLog.backfill(db)
        }
        // Stores written before it have no audit snapshot: each gateway's chain is replayed
        // once at the next start-up, which then writes one (`GatewayAudit.restore`).
        migrator.registerMigration("authority-v6-audit-snapshot") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_snapshot (
                        gateway BLOB PRIMARY KEY,
                        height INTEGER NOT NULL,
                        bytes BLOB NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("authority-v7-escalation-claims") { db in
            try db.execute(
                sql: "CREATE TABLE escalation_claim (request_hash BLOB PRIMARY KEY, claimed_at INTEGER NOT NULL)"
            )
        }
        migrator.registerMigration("authority-v8-store-root") { db in
            try db.execute(
                sql: "CREATE TABLE store_root (id INTEGER PRIMARY KEY CHECK (id = 0), key BLOB NOT NULL)"
            )
        }
        return migrator
    }

    /// PostgreSQL's migrations, by name, each a list of statements run in one transaction.
    /// Its first is the schema SQLite's migrations build up (same tables, columns and keys;
    /// 64-bit integers and BYTEA): a PostgreSQL store starts at the current version. A later
    /// change to the schema is a migration added to both lists.
    static let postgresMigrations: [(name: String, statements: [String])] = [
        (
            "authority-v6",
            [
                """
                CREATE TABLE certificate (
                    serial BIGINT PRIMARY KEY,
                    gateway BYTEA NOT NULL,
                    public_key BYTEA NOT NULL,
                    name TEXT NOT NULL,
                    issued_at BIGINT NOT NULL,
                    bytes BYTEA NOT NULL
                )
                """,
                "CREATE INDEX certificate_by_gateway ON certificate(gateway, serial)",
                """
                CREATE TABLE revocation (
                    serial BIGINT PRIMARY KEY REFERENCES certificate(serial),
                    revoked_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE gateway_block (
                    gateway BYTEA NOT NULL,
                    height BIGINT NOT NULL,
                    hash BYTEA NOT NULL,
                    block BYTEA NOT NULL,
                    checkpoint BYTEA NOT NULL,
                    PRIMARY KEY (gateway, height)
                )
                """,
                """
                CREATE TABLE gateway_endpoint (
                    gateway BYTEA PRIMARY KEY,
                    url TEXT NOT NULL,
                    announced_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE value_flag (
                    gateway BYTEA NOT NULL,
                    height BIGINT NOT NULL,
                    producer BYTEA NOT NULL,
                    dispatched_wh BIGINT NOT NULL,
                    exported_wh BIGINT NOT NULL,
                    tolerance_wh BIGINT NOT NULL,
                    chain_tolerance_wh BIGINT NOT NULL,
                    flagged_at BIGINT NOT NULL,
                    PRIMARY KEY (gateway, height, producer)
                )
                """,
                """
                CREATE TABLE suspension (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    gateway BYTEA NOT NULL,
                    suspended_at BIGINT NOT NULL,
                    height BIGINT NOT NULL,
                    flag_count BIGINT NOT NULL,
                    reinstated_at BIGINT,
                    reinstated_height BIGINT,
                    note TEXT
                )
                """,
                "CREATE INDEX suspension_by_gateway ON suspension(gateway, id)",
                """
                CREATE TABLE escalation (
                    decision_id BIGINT PRIMARY KEY,
                    request_hash BYTEA NOT NULL,
                    consumer_gateway BYTEA NOT NULL,
                    consumer BYTEA NOT NULL,
                    request_sequence BIGINT NOT NULL,
                    energy_wh BIGINT NOT NULL,
                    producer_gateway BYTEA NOT NULL,
                    producer BYTEA NOT NULL,
                    status TEXT NOT NULL,
                    decided_at BIGINT NOT NULL,
                    producer_tnt_before BIGINT,
                    detail TEXT,
                    bytes BYTEA NOT NULL
                )
                """,
                "CREATE INDEX escalation_by_request ON escalation(request_hash, decision_id)",
                "CREATE UNIQUE INDEX escalation_committed ON escalation(request_hash) WHERE status = 'committed'",
                "CREATE TABLE log_entry (idx BIGINT PRIMARY KEY, bytes BYTEA NOT NULL)",
                """
                CREATE TABLE log_tile (
                    level BIGINT NOT NULL,
                    idx BIGINT NOT NULL,
                    hashes BYTEA NOT NULL,
                    PRIMARY KEY (level, idx)
                )
                """,
                "CREATE TABLE log_head (id BIGINT PRIMARY KEY CHECK (id = 0), size BIGINT NOT NULL, root BYTEA NOT NULL)",
                "INSERT INTO log_head (id, size, root) VALUES (0, 0, decode('\(Merkle.emptyRoot.hex)', 'hex'))",
                "CREATE TABLE audit_snapshot (gateway BYTEA PRIMARY KEY, height BIGINT NOT NULL, bytes BYTEA NOT NULL)",
            ]
        ),
        (
            "authority-v7-escalation-claims",
            ["CREATE TABLE escalation_claim (request_hash BYTEA PRIMARY KEY, claimed_at BIGINT NOT NULL)"]
        ),
        (
            "authority-v8-store-root",
            ["CREATE TABLE store_root (id BIGINT PRIMARY KEY CHECK (id = 0), key BYTEA NOT NULL)"]
        ),
    ]

    /// Brings a PostgreSQL store to the current schema: the migrations it has not run, each
    /// in one transaction, under the `migrations` lock (replicas starting together run each
    /// once).
    static func migrate(_ db: PostgresStoreConnection) throws {
        try db.execute("CREATE TABLE IF NOT EXISTS authority_migration (name TEXT PRIMARY KEY)")
        for migration in postgresMigrations {
            try db.transaction {
                try db.serialize(on: .migrations)
                guard try db.row("SELECT 1 FROM authority_migration WHERE name = ?", [.text(migration.name)]) == nil
                else { return }
                for statement in migration.statements { try db.execute(statement) }
                try db.execute("INSERT INTO authority_migration (name) VALUES (?)", [.text(migration.name)])
            }
        }
    }
}

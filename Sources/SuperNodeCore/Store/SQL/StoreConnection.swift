import LedgerLite

/// Which engine holds an authority store.
package enum StoreEngineKind: String, Sendable {
    case sqlite
    case postgres
}

/// What a store operation serialises on across every process sharing the store. On
/// PostgreSQL each is a transaction-level advisory lock, held until the transaction ends,
/// which is how replicas take turns; on SQLite the store's one writer already serialises
/// every write transaction, so taking one costs nothing.
package enum StoreLock: Sendable, Hashable {
    /// One gateway's chain: its audit, accepted blocks and audit snapshot.
    case gateway(GatewayID)
    /// The checkpoint log (its one sequencer at a time).
    case checkpointLog
    /// Escalation decision ids and outcomes.
    case escalations
    /// The certificate register: serials, revocations, suspensions.
    case register
    /// Schema migrations.
    case migrations

    /// The 64-bit key of the PostgreSQL advisory lock. A gateway's is the first 8 bytes of
    /// its id (a hash); a collision with another gateway or a fixed key only makes two
    /// holders take turns.
    package var advisoryKey: Int64 {
        switch self {
        case let .gateway(id):
            var key: UInt64 = 0
            for byte in id.bytes.prefix(8) { key = key << 8 | UInt64(byte) }
            return Int64(bitPattern: key)
        case .checkpointLog: return 0x4752_444C_0000_0001
        case .escalations: return 0x4752_444C_0000_0002
        case .register: return 0x4752_444C_0000_0003
        case .migrations: return 0x4752_444C_0000_0004
        }
    }
}

/// One connection to the authority store, on a thread that may block (never the cooperative
/// pool or an event loop). The store's SQL is written once, with `?` placeholders, in the
/// dialect both engines accept; only the schema's migrations differ (`AuthoritySchema`).
package protocol StoreConnection {
    /// The engine behind this connection.
    var engine: StoreEngineKind { get }

    /// Runs one statement.
    func execute(_ sql: String, _ arguments: [StoreValue]) throws

    /// Runs one query and returns every row.
    func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow]

    /// Runs `body` in one transaction: committed when it returns, rolled back when it
    /// throws. Not nested.
    func transaction<T>(_ body: () throws -> T) throws -> T

    /// Holds `lock` until the current transaction ends (`StoreLock`).
    func serialize(on lock: StoreLock) throws
}

extension StoreConnection {
    package func execute(_ sql: String) throws { try execute(sql, []) }

    package func rows(_ sql: String) throws -> [StoreRow] { try rows(sql, []) }

    /// The first row of a query, nil when it returns none.
    package func row(_ sql: String, _ arguments: [StoreValue] = []) throws -> StoreRow? {
        try rows(sql, arguments).first
    }

    /// The first column of the first row as an integer, nil when there is no row or it is NULL.
    package func integer(_ sql: String, _ arguments: [StoreValue] = []) throws -> Int64? {
        try row(sql, arguments)?.optionalInteger(0)
    }
}

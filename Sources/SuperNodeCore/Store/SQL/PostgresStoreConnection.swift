import Logging
import NIOCore
import PostgresNIO

/// A `StoreConnection` over one PostgreSQL connection (postgres-nio). Its calls block the
/// calling thread until the server answers, so it is only used on the PostgreSQL engine's
/// own threads (`PostgresEngine`), never on an event loop or the cooperative pool.
package struct PostgresStoreConnection: StoreConnection {
    let connection: PostgresConnection
    let logger: Logger
    /// The server, for error messages.
    let server: String

    package var engine: StoreEngineKind { .postgres }

    package func execute(_ sql: String, _ arguments: [StoreValue]) throws {
        _ = try run(sql, arguments)
    }

    /// Runs one statement and waits for its answer, or for the connection's end: a query
    /// sent on a connection the server has just closed (it fenced this process off, or was
    /// restarted) is never answered, and must not be waited for forever.
    private func run(_ sql: String, _ arguments: [StoreValue]) throws -> PostgresQueryResult {
        let query = try Self.query(sql, arguments)
        let answered = connection.closeFuture.eventLoop.makePromise(of: PostgresQueryResult.self)
        connection.query(query, logger: logger).cascade(to: answered)
        let server = self.server
        connection.closeFuture.whenComplete { _ in
            answered.fail(PostgresStoreError(closedBy: server))  // ignored once answered
        }
        do { return try answered.futureResult.wait() } catch let error as PostgresStoreError { throw error } catch {
            throw PostgresStoreError(error, server: server)
        }
    }

    package func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
        let result = try run(sql, arguments)
        return try result.map { row in
            var names: [String] = []
            var values: [StoreValue] = []
            for cell in row {
                names.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return StoreRow(names: names, values: values)
        }
    }

    package func transaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(beginning: "BEGIN", body)
    }

    /// Runs `body` in a transaction that sees one snapshot of the store and writes nothing
    /// (what SQLite's readers see).
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try transaction(beginning: "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    private func transaction<T>(beginning begin: String, _ body: () throws -> T) throws -> T {
        try execute(begin)
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if !connection.isClosed { try? execute("ROLLBACK") }  // the body's error is the one to report
            throw error
        }
    }

    package func serialize(on lock: StoreLock) throws {
        try execute("SELECT pg_advisory_xact_lock(?)", [.integer(lock.advisoryKey)])
    }

    /// `sql` with its `?` placeholders numbered as PostgreSQL's `$1`, `$2`, … (the store's
    /// SQL has no `?` inside a literal), and its arguments bound.
    static func query(_ sql: String, _ arguments: [StoreValue]) throws -> PostgresQuery {
        var numbered = ""
        numbered.reserveCapacity(sql.utf8.count + 8)
        var count = 0
        for character in sql {
            if character == "?" {
                count += 1
                numbered += "$\(count)"
            } else {
                numbered.append(character)
            }
        }
        guard count == arguments.count else {
            throw StoreDamage("a statement has \(count) placeholders but \(arguments.count) arguments: \(sql)")
        }
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case let .integer(int): binds.append(int)
            case let .text(text): binds.append(text)
            case let .bytes(bytes): binds.append(ByteBuffer(bytes: bytes))
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: binds)
    }

    private static func value(_ cell: PostgresCell) throws -> StoreValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8: return .integer(try cell.decode(Int64.self))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .bytes(Array(buffer: try cell.decode(ByteBuffer.self)))
        case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
        default:
            throw StoreDamage(
                "column \(cell.columnName) of the authority store has PostgreSQL type \(cell.dataType), which the store does not use"
            )
        }
    }
}

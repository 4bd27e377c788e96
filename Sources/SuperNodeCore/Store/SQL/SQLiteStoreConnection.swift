import Foundation
import GRDB

/// A `StoreConnection` over a GRDB `Database` (the SQLite engine).
package struct SQLiteStoreConnection: StoreConnection {
    package let db: Database

    package init(_ db: Database) { self.db = db }

    package var engine: StoreEngineKind { .sqlite }

    package func execute(_ sql: String, _ arguments: [StoreValue]) throws {
        try db.execute(sql: sql, arguments: Self.arguments(arguments))
    }

    package func rows(_ sql: String, _ arguments: [StoreValue]) throws -> [StoreRow] {
        try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)).map { row in
            StoreRow(
                names: Array(row.columnNames),
                values: row.databaseValues.map { value in
                    switch value.storage {
                    case .null: .null
                    case let .int64(int): .integer(int)
                    case let .double(double): .text("\(double)")
                    case let .string(string): .text(string)
                    case let .blob(data): .bytes(Array(data))
                    }
                }
            )
        }
    }

    package func transaction<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inTransaction {
            result = try body()
            return .commit
        }
        return result!
    }

    /// SQLite's one writer serialises every write transaction already.
    package func serialize(on lock: StoreLock) throws {}

    private static func arguments(_ values: [StoreValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case let .integer(int): int
                case let .text(text): text
                case let .bytes(bytes): Data(bytes)
                case .null: nil
                }
            }
        )
    }
}

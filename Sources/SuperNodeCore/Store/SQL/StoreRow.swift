/// One row a query on the authority store returned, engine-neutral. Its typed accessors
/// throw `StoreDamage` naming the column when a value is not of the type the schema says
/// (a store edited by hand, or a query that does not match the schema).
package struct StoreRow: Sendable {
    package let names: [String]
    package let values: [StoreValue]

    package init(names: [String], values: [StoreValue]) {
        self.names = names
        self.values = values
    }

    private func value(_ column: Int) throws -> StoreValue {
        guard values.indices.contains(column) else {
            throw StoreDamage("a query on the authority store returned \(values.count) columns, not column \(column)")
        }
        return values[column]
    }

    private func name(_ column: Int) -> String {
        names.indices.contains(column) ? names[column] : "\(column)"
    }

    /// The index of the column `name`.
    package func column(_ name: String) throws -> Int {
        guard let index = names.firstIndex(of: name) else {
            throw StoreDamage("a query on the authority store returned no column \(name)")
        }
        return index
    }

    private func mismatch(_ column: Int, _ expected: String, _ found: StoreValue) -> StoreDamage {
        StoreDamage("column \(name(column)) of the authority store holds \(found) where \(expected) was expected")
    }

    /// An integer column (NULL refused).
    package func integer(_ column: Int) throws -> Int64 {
        guard let value = try optionalInteger(column) else { throw mismatch(column, "an integer", .null) }
        return value
    }

    /// An integer column, nil for NULL.
    package func optionalInteger(_ column: Int) throws -> Int64? {
        switch try value(column) {
        case let .integer(value): return value
        case .null: return nil
        case let other: throw mismatch(column, "an integer", other)
        }
    }

    /// An integer column read back as the unsigned value it was stored from (`StoreValue.unsigned`).
    package func unsigned(_ column: Int) throws -> UInt64 { UInt64(bitPattern: try integer(column)) }

    /// An unsigned column, nil for NULL.
    package func optionalUnsigned(_ column: Int) throws -> UInt64? {
        try optionalInteger(column).map { UInt64(bitPattern: $0) }
    }

    /// An integer column as `Int`.
    package func int(_ column: Int) throws -> Int {
        let value = try integer(column)
        guard let int = Int(exactly: value) else { throw mismatch(column, "an Int", .integer(value)) }
        return int
    }

    /// A byte-string column (NULL refused).
    package func bytes(_ column: Int) throws -> [UInt8] {
        switch try value(column) {
        case let .bytes(value): return value
        case let other: throw mismatch(column, "bytes", other)
        }
    }

    /// A text column (NULL refused).
    package func text(_ column: Int) throws -> String {
        guard let value = try optionalText(column) else { throw mismatch(column, "text", .null) }
        return value
    }

    /// A text column, nil for NULL.
    package func optionalText(_ column: Int) throws -> String? {
        switch try value(column) {
        case let .text(value): return value
        case .null: return nil
        case let other: throw mismatch(column, "text", other)
        }
    }
}

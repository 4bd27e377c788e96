import Foundation

/// One SQL value as both of the authority store's engines (SQLite and PostgreSQL) hold it:
/// every integer column is 64-bit, every byte string a BLOB (SQLite) or BYTEA (PostgreSQL).
package enum StoreValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case bytes([UInt8])
    case null

    /// An unsigned value stored by its bit pattern (heights, serials, ids above `Int64.max`
    /// come back unchanged through `StoreRow.unsigned`).
    package static func unsigned(_ value: UInt64) -> StoreValue { .integer(Int64(bitPattern: value)) }

    /// Bytes from any byte collection.
    package static func blob<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> StoreValue { .bytes(Array(bytes)) }

    /// `value`, or NULL when it is nil.
    package static func optional(_ value: StoreValue?) -> StoreValue { value ?? .null }
}

extension StoreValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(stringLiteral value: String) { self = .text(value) }
}

extension StoreValue: CustomStringConvertible {
    package var description: String {
        switch self {
        case let .integer(value): "integer \(value)"
        case let .text(value): "text of \(value.utf8.count) bytes"
        case let .bytes(value): "\(value.count) bytes"
        case .null: "NULL"
        }
    }
}

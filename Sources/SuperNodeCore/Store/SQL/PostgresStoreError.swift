import PostgresNIO

/// A PostgreSQL error in words an operator can act on. postgres-nio's `PSQLError` prints a
/// generic line on purpose (its queries may carry secrets); this keeps the server's message,
/// detail and SQLSTATE, or the connection's failure, and never the query's arguments.
package struct PostgresStoreError: Error, CustomStringConvertible {
    package let description: String
    /// The server's SQLSTATE, when the server answered with an error.
    package let sqlState: String?

    /// The connection ended before the statement was answered.
    init(closedBy server: String) {
        description =
            "PostgreSQL at \(server) closed the connection before answering (the server restarted, or ended this replica's transaction after --fence-after)"
        sqlState = nil
    }

    init(_ error: any Error, server: String) {
        guard let error = error as? PSQLError else {
            description = "PostgreSQL at \(server): \(error)"
            sqlState = nil
            return
        }
        if let info = error.serverInfo {
            sqlState = info[.sqlState]
            var text = "PostgreSQL at \(server): \(info[.message] ?? "error")"
            if let detail = info[.detail] { text += " (\(detail))" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            description = text
        } else {
            sqlState = nil
            let cause = error.underlying.map { ": \($0)" } ?? ""
            description = "PostgreSQL at \(server): \(error.code)\(cause)"
        }
    }
}

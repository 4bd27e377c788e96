import Foundation

/// A `postgres://user[:password]@host[:port]/database` URL (`serve --store`), parsed. The
/// password may come from `PGPASSWORD` instead (as with psql), keeping it off command lines.
package struct PostgresLocation: Sendable, Equatable {
    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String

    /// Whether `text` names a PostgreSQL store rather than the data directory's SQLite file.
    package static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// - Throws: `PostgresLocationError` saying what is missing or not understood.
    package init(_ text: String) throws {
        guard Self.isPostgres(text), let url = URLComponents(string: text) else {
            throw PostgresLocationError("not a postgres://user@host:port/database URL: \(Self.redacting(text))")
        }
        guard let host = url.host, !host.isEmpty else {
            throw PostgresLocationError("\(Self.redacting(text)) names no host")
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresLocationError("\(Self.redacting(text)) names no user (postgres://USER@host/database)")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("\(Self.redacting(text)) names no database (postgres://user@host/DATABASE)")
        }
        guard url.query == nil, url.fragment == nil else {
            throw PostgresLocationError(
                "\(Self.redacting(text)) has options (?…), which are not supported: the connection is plain TCP, for a server on this machine or a trusted network"
            )
        }
        if let port = url.port, !(1...65535).contains(port) {
            throw PostgresLocationError("\(Self.redacting(text)) has port \(port), outside 1-65535")
        }
        self.host = host
        self.port = url.port ?? 5432
        self.username = user
        self.password = url.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        self.database = database
    }

    /// The URL as given, password included (what `--store` takes).
    package var connectionURL: String {
        var url = URLComponents()
        url.scheme = "postgres"
        url.user = username
        url.password = password
        url.host = host
        url.port = port
        url.path = "/" + database
        return url.string ?? description
    }

    /// The URL without its password, for logs and messages.
    package var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }

    private static func redacting(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? text
    }
}

/// What is wrong with a `--store` URL.
package struct PostgresLocationError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

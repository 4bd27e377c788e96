/// Where an authority store's SQL runs: SQLite in the data directory (`SQLiteEngine`), or a
/// PostgreSQL server shared by replicas (`PostgresEngine`). Bodies run on a thread that may
/// block, never on the cooperative pool.
package protocol StoreEngine: Sendable {
    /// Which engine this is.
    var kind: StoreEngineKind { get }

    /// Where the store is, for messages: a file path, or a URL without its password.
    var location: String { get }

    /// Runs `body` on one consistent state of the store (a read-only snapshot).
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T

    /// Runs `body` on a connection that writes; the body opens its own transactions
    /// (`StoreConnection.transaction`). On SQLite this is the store's one writer, so
    /// sessions run one at a time; on PostgreSQL several run at once and take turns through
    /// `StoreLock`s.
    func session<T: Sendable>(_ body: @escaping @Sendable (any StoreConnection) throws -> T) async throws -> T

    /// Closes the engine's connections; nothing may run on it afterwards.
    func close() async
}

import Foundation
import LedgerLite
import LedgerStore
import Logging
import OperatorKit

/// The files of a super node's data directory (docs/SUPERNODE.md, "Data directory").
package struct SuperDirectory: Sendable {
    package let directory: ServiceDirectory
    /// The PostgreSQL store shared by replicas (`--store postgres://…`); nil for the data
    /// directory's own SQLite file.
    package let postgres: PostgresLocation?

    /// With a PostgreSQL store: how long a transaction of this process may wait for it before
    /// the server ends it and releases its locks (`serve --fence-after`; `PostgresEngine`).
    package var fenceAfter: Duration

    package init(
        _ path: String,
        postgres: PostgresLocation? = nil,
        fenceAfter: Duration = PostgresEngine.defaultFenceAfter
    ) {
        directory = ServiceDirectory(path, marker: "root.key", kind: "super node", initCommand: "super-node init")
        self.postgres = postgres
        self.fenceAfter = fenceAfter
    }

    package var path: String { directory.path }
    package var keyPath: String { directory.file("root.key") }
    package var publicKeyPath: String { directory.file("root.key.pub") }
    /// The SQLite store's file (unused with a PostgreSQL store).
    package var storePath: String { directory.file("authority.sqlite") }
    /// Where the store is, for messages: the SQLite file, or the PostgreSQL URL without its password.
    package var storeLocation: String { postgres?.description ?? storePath }
    package var urlPath: String { directory.file("super-node.url") }
    package var lockPath: String { directory.file("super-node.lock") }
    /// Where `serve` writes its URL once bound.
    package var urlFile: ServerURLFile { ServerURLFile(path: urlPath) }
    package var isInitialised: Bool { directory.isInitialised }

    /// Creates the directory, the root key pair and an empty authority store (the SQLite
    /// file, or the schema on the PostgreSQL server when it has none yet). A PostgreSQL store
    /// is reached first: when it cannot be, nothing is created and `init` can be run again.
    @discardableResult
    package func initialise(logger: Logger = Logger(label: "super-node.store")) async throws -> SigningIdentity {
        let reached = postgres == nil ? nil : try await openEngine(creating: true, logger: logger)
        do {
            try directory.create(
                refusingIfPresent: ["authority.sqlite"],
                refusal: "Use another --data path; a new root key would invalidate every certificate issued"
            )
            let key = SigningIdentity()
            do {
                try KeyFile.writePrivateKey(key, to: keyPath)
                try KeyFile.writePublicKey(key.publicIdentity, to: publicKeyPath, comment: "super-node-root")
            } catch {
                throw AuthorityError.keyFile(error)
            }
            let store: AuthorityStore
            if let reached { store = reached } else { store = try await openEngine(creating: true, logger: logger) }
            try await requireRoot(key.publicIdentity, of: store)
            await store.engine.close()
            return key
        } catch {
            await reached?.engine.close()
            throw error
        }
    }

    /// Fails with a clear line unless `super-node init` set the directory up.
    package func requireInitialised() throws { try directory.requireInitialised() }

    /// Loads the root private key (refusing a file others can read).
    package func loadKey() throws -> SigningIdentity {
        try requireInitialised()
        do { return try KeyFile.readPrivateKey(from: keyPath) } catch { throw AuthorityError.keyFile(error) }
    }

    /// Opens the authority store (migrating it to the current schema).
    package func openStore(logger: Logger = Logger(label: "super-node.store")) async throws -> AuthorityStore {
        try requireInitialised()
        return try await openStore(creating: false, logger: logger)
    }

    /// Opens the store and checks it is this directory's root key's (`AuthorityStore.requireRoot`).
    private func openStore(creating: Bool, logger: Logger) async throws -> AuthorityStore {
        let store = try await openEngine(creating: creating, logger: logger)
        try await requireRoot(try loadKey().publicIdentity, of: store)
        return store
    }

    /// Opens (and migrates) the store's engine.
    private func openEngine(creating: Bool, logger: Logger) async throws -> AuthorityStore {
        do {
            if let postgres {
                return AuthorityStore(
                    engine: try await PostgresEngine.open(postgres, fenceAfter: fenceAfter, logger: logger)
                )
            }
            return try AuthorityStore(path: storePath)
        } catch {
            throw AuthorityError.storeUnavailable(path: storeLocation, creating: creating, underlying: "\(error)")
        }
    }

    /// Binds `store` to `root`, or checks it is bound to it; closes it when not.
    private func requireRoot(_ root: PublicIdentity, of store: AuthorityStore) async throws {
        let location = storeLocation
        do { try await store.write { db in try AuthorityStore.requireRoot(root, store: location, db) } } catch {
            await store.engine.close()
            throw error
        }
    }
}

import Foundation
import LedgerLite
import LedgerStore
import OperatorKit

/// The files of a super node's data directory (docs/SUPERNODE.md, "Data directory").
package struct SuperDirectory: Sendable {
    package let directory: ServiceDirectory

    package init(_ path: String) {
        directory = ServiceDirectory(path, marker: "root.key", kind: "super node", initCommand: "super-node init")
    }

    package var path: String { directory.path }
    package var keyPath: String { directory.file("root.key") }
    package var publicKeyPath: String { directory.file("root.key.pub") }
    package var storePath: String { directory.file("authority.sqlite") }
    package var urlPath: String { directory.file("super-node.url") }
    package var lockPath: String { directory.file("super-node.lock") }
    /// Where `serve` writes its URL once bound.
    package var urlFile: ServerURLFile { ServerURLFile(path: urlPath) }
    package var isInitialised: Bool { directory.isInitialised }

    /// Creates the directory, the root key pair and an empty authority store.
    @discardableResult
    package func initialise() throws -> SigningIdentity {
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
        do {
            _ = try AuthorityStore(path: storePath)
        } catch {
            throw AuthorityError.storeUnavailable(path: storePath, creating: true, underlying: "\(error)")
        }
        return key
    }

    /// Fails with a clear line unless `super-node init` set the directory up.
    package func requireInitialised() throws { try directory.requireInitialised() }

    /// Loads the root private key (refusing a file others can read).
    package func loadKey() throws -> SigningIdentity {
        try requireInitialised()
        do { return try KeyFile.readPrivateKey(from: keyPath) } catch { throw AuthorityError.keyFile(error) }
    }

    /// Opens the authority store.
    package func openStore() throws -> AuthorityStore {
        try requireInitialised()
        do { return try AuthorityStore(path: storePath) } catch {
            throw AuthorityError.storeUnavailable(path: storePath, creating: false, underlying: "\(error)")
        }
    }
}

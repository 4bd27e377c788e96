import Foundation
import LedgerLite
import OperatorKit
#if canImport(Glibc)
import Glibc
#endif

/// The files of a super node's data directory (docs/SUPERNODE.md, "Data directory").
struct SuperDirectory: Sendable {
    let path: String

    init(_ path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    var keyPath: String { path + "/root.key" }
    var publicKeyPath: String { path + "/root.key.pub" }
    var storePath: String { path + "/authority.sqlite" }
    var urlPath: String { path + "/super-node.url" }
    var lockPath: String { path + "/super-node.lock" }
    var isInitialised: Bool { FileManager.default.fileExists(atPath: keyPath) }

    /// Creates the directory, the root key pair and an empty authority store.
    @discardableResult
    func initialise() throws -> SigningIdentity {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw OperatorError("\(path) exists and is not a directory; choose another --data path") }
            if isInitialised || fm.fileExists(atPath: storePath) {
                throw OperatorError("\(path) is already an initialised super node data directory (\(keyPath) exists); refusing to overwrite it. Use another --data path; a new root key would invalidate every certificate issued")
            }
        } else {
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw OperatorError("cannot create data directory \(path): \(error.localizedDescription); check the parent directory exists and is writable")
            }
        }
        let key = SigningIdentity()
        do {
            try KeyFile.writePrivateKey(key, to: keyPath)
            try KeyFile.writePublicKey(key.publicIdentity, to: publicKeyPath, comment: "super-node-root")
        } catch {
            throw OperatorError(error.description)
        }
        do {
            _ = try AuthorityStore(path: storePath)
        } catch {
            throw OperatorError("cannot create the authority store \(storePath): \(error)")
        }
        return key
    }

    /// Fails with a clear line unless `super-node init` set the directory up.
    func requireInitialised() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw OperatorError("data directory \(path) does not exist; run `super-node init --data \(path)` first")
        }
        guard isInitialised else {
            throw OperatorError("\(path) is not an initialised super node data directory (no \(keyPath)); run `super-node init --data \(path)` first")
        }
    }

    /// Loads the root private key (refusing a file others can read).
    func loadKey() throws -> SigningIdentity {
        try requireInitialised()
        do { return try KeyFile.readPrivateKey(from: keyPath) } catch { throw OperatorError(error.description) }
    }

    /// Opens the authority store.
    func openStore() throws -> AuthorityStore {
        try requireInitialised()
        do { return try AuthorityStore(path: storePath) } catch { throw OperatorError("cannot open the authority store \(storePath): \(error)") }
    }

    func writeServerURL(_ url: String) throws {
        let temp = urlPath + ".tmp"
        guard FileManager.default.createFile(atPath: temp, contents: Data((url + "\n").utf8)) else {
            throw OperatorError("cannot write \(urlPath); check the data directory is writable")
        }
        guard rename(temp, urlPath) == 0 else { throw OperatorError("cannot write \(urlPath): \(String(cString: strerror(errno)))") }
    }

    func removeServerURL() {
        unlink(urlPath)
    }
}

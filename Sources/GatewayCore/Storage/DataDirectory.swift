import Foundation
import LedgerLite
import LedgerStore
import OperatorKit

#if canImport(Glibc)
import Glibc
#endif

/// The files of a gateway's data directory (docs/GATEWAY.md, "Data directory").
package struct DataDirectory: Sendable {
    package let directory: ServiceDirectory

    package init(_ path: String) {
        directory = ServiceDirectory(path, marker: "gateway.key", kind: "gateway", initCommand: "edge-gateway init")
    }

    package var path: String { directory.path }
    package var keyPath: String { directory.file("gateway.key") }
    package var publicKeyPath: String { directory.file("gateway.key.pub") }
    package var tokenPath: String { directory.file("admin.token") }
    package var chainPath: String { directory.file("chain.sqlite") }
    package var journalPath: String { directory.file("pending.sqlite") }
    /// The OCMF strings whose commitments are on the chain (`OCMFArchive`).
    package var ocmfPath: String { directory.file("ocmf.sqlite") }
    package var lockPath: String { directory.file("gateway.lock") }
    package var urlPath: String { directory.file("gateway.url") }
    /// The super node's checkpoints of our blocks (`CheckpointStore`).
    package var checkpointsPath: String { directory.file("checkpoints.sqlite") }
    /// The super node root key, kept once verified (`SuperNodeLink`).
    package var rootKeyPath: String { directory.file("super-node-root.pub") }
    /// Where `serve` writes its URL once bound.
    package var urlFile: ServerURLFile { ServerURLFile(path: urlPath) }

    package var isInitialised: Bool { directory.isInitialised }

    /// Creates the directory, the gateway key pair, the admin token and an empty chain store.
    /// - Returns: the gateway key.
    @discardableResult
    package func initialise() throws -> SigningIdentity {
        try directory.create(
            refusingIfPresent: ["chain.sqlite"],
            refusal: "Use another --data path, or remove the directory if you really mean to start a new chain"
        )
        let key = SigningIdentity()
        do {
            try KeyFile.writePrivateKey(key, to: keyPath)
            try KeyFile.writePublicKey(key.publicIdentity, to: publicKeyPath, comment: "edge-gateway")
        } catch {
            throw DataDirectoryError.keyFile(error)
        }
        var tokenBytes = [UInt8](repeating: 0, count: 32)
        var rng = SystemRandomNumberGenerator()
        for i in tokenBytes.indices { tokenBytes[i] = UInt8.random(in: 0...255, using: &rng) }
        try writeSecret(encodeHex(tokenBytes) + "\n", to: tokenPath)
        do {
            _ = try ChainStore(path: chainPath, check: .structure)
            _ = try PendingJournal(path: journalPath)
        } catch {
            throw DataDirectoryError.storeUnavailable(
                what: "chain store",
                path: chainPath,
                creating: true,
                underlying: "\(error)"
            )
        }
        return key
    }

    /// Fails with a clear line unless the directory was set up by `edge-gateway init`.
    package func requireInitialised() throws { try directory.requireInitialised() }

    /// Loads the gateway's private key (refusing a file others can read).
    package func loadKey() throws -> SigningIdentity {
        try requireInitialised()
        do { return try KeyFile.readPrivateKey(from: keyPath) } catch { throw DataDirectoryError.keyFile(error) }
    }

    /// Loads the gateway's public key (for read-only tools).
    package func loadPublicKey() throws -> PublicIdentity {
        try requireInitialised()
        if FileManager.default.fileExists(atPath: publicKeyPath) {
            do { return try KeyFile.readPublicKey(from: publicKeyPath) } catch {
                throw DataDirectoryError.keyFile(error)
            }
        }
        return try loadKey().publicIdentity
    }

    /// The admin token.
    package func loadToken() throws -> String {
        try requireInitialised()
        guard let data = FileManager.default.contents(atPath: tokenPath),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else {
            throw DataDirectoryError.tokenUnreadable(path: tokenPath)
        }
        var info = stat()
        if stat(tokenPath, &info) == 0, info.st_mode & 0o077 != 0 {
            throw DataDirectoryError.tokenExposed(path: tokenPath)
        }
        return text
    }

    private func writeSecret(_ text: String, to file: String) throws {
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw DataDirectoryError.secretNotWritten(
                path: file,
                creating: true,
                reason: String(cString: strerror(errno))
            )
        }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw DataDirectoryError.secretNotWritten(
                path: file,
                creating: false,
                reason: String(cString: strerror(errno))
            )
        }
    }
}

import Foundation
import GRDB
import LedgerLite
import LedgerStore

/// An online backup of a gateway's data directory, taken while `serve` runs (or not).
///
/// The result is itself a data directory: its keys and token, and consistent copies of the
/// three SQLite databases made with SQLite's backup API (through GRDB), which reads a live
/// database in WAL mode without stopping its writer. The journal is copied before the chain:
/// an entry sealed between the two copies is then in the chain copy (and maybe still in the
/// journal copy, which the gateway resolves at start as after a crash), never in neither.
/// Restoring is copying the directory into place; `edge-gateway verify` checks it.
package enum GatewayBackup {
    /// What a backup holds.
    package struct Summary: Sendable {
        package var files: [String]
        package var blocks: UInt64
        package var entries: UInt64
        package var pending: Int
        package var bytes: Int64
    }

    /// Copies `directory` into `destination`, a path that must not exist yet (created 0700),
    /// and checks the copy: the chain store opens with every block's Merkle root checked
    /// and the journal opens. The copy is made in `destination.partial` and renamed into
    /// place only once checked, so `destination` never names an unfinished backup, even after
    /// a kill; on any failure (and at the next run after a kill) the partial copy is removed.
    package static func write(from directory: DataDirectory, to destination: String) throws -> Summary {
        try directory.requireInitialised()
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw BackupError("\(destination) exists; name a new directory for the backup")
        }
        let partial = destination + ".partial"
        do {
            try? FileManager.default.removeItem(atPath: partial)
            try FileManager.default.createDirectory(
                atPath: partial,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            let copy = DataDirectory(partial)
            var files: [String] = []
            // Keys and secrets first (mode kept: 0600 for the private ones).
            for (source, target) in [
                (directory.keyPath, copy.keyPath), (directory.publicKeyPath, copy.publicKeyPath),
                (directory.tokenPath, copy.tokenPath), (directory.rootKeyPath, copy.rootKeyPath),
                (directory.directory.file("tls.crt"), copy.directory.file("tls.crt")),
                (directory.directory.file("tls.key"), copy.directory.file("tls.key")),
            ] where FileManager.default.fileExists(atPath: source) {
                try copyFile(source, to: target)
                files.append(URL(fileURLWithPath: target).lastPathComponent)
            }
            for (source, target) in [
                // The OCMF archive after the journal and the chain: the gateway writes a string
                // before its commitment, so the copy holds the string of every copied commitment.
                (directory.journalPath, copy.journalPath), (directory.chainPath, copy.chainPath),
                (directory.ocmfPath, copy.ocmfPath), (directory.checkpointsPath, copy.checkpointsPath),
            ] where FileManager.default.fileExists(atPath: source) {
                try backUpDatabase(source, to: target)
                files.append(URL(fileURLWithPath: target).lastPathComponent)
            }
            let chain = try ChainStore(path: copy.chainPath)
            let journal = try PendingJournal(path: copy.journalPath)
            let bytes = try files.reduce(Int64(0)) { total, name in
                let size = try FileManager.default.attributesOfItem(atPath: copy.directory.file(name))[.size]
                return total + ((size as? NSNumber)?.int64Value ?? 0)
            }
            let summary = Summary(
                files: files,
                blocks: try chain.blockCount(),
                entries: try chain.entryCount(),
                pending: try journal.count(),
                bytes: bytes
            )
            guard rename(partial, destination) == 0 else {
                throw BackupError("cannot rename \(partial) to \(destination): \(String(cString: strerror(errno)))")
            }
            try GatewayArchive.fsyncPath((destination as NSString).deletingLastPathComponent)
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            if let error = error as? BackupError { throw error }
            throw BackupError("backing up \(directory.path) to \(destination) failed, nothing kept: \(error)")
        }
    }

    private static func copyFile(_ source: String, to target: String) throws {
        let mode = try FileManager.default.attributesOfItem(atPath: source)[.posixPermissions] as? Int ?? 0o600
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        guard FileManager.default.createFile(atPath: target, contents: data, attributes: [.posixPermissions: mode])
        else { throw BackupError("cannot write \(target)") }
    }

    /// A consistent copy of a live SQLite database, written as one file (no WAL beside it).
    private static func backUpDatabase(_ source: String, to target: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let from = try DatabaseQueue(path: source, configuration: configuration)
        let to = try DatabaseQueue(path: target)
        try from.backup(to: to)
        try from.close()
        try to.close()
        _ = chmod(target, 0o600)
    }
}

/// Why a backup was not made; the description says what to do.
package struct BackupError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

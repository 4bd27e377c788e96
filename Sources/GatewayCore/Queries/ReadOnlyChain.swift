import Foundation
import LedgerLite
import LedgerStore
import OperatorKit

/// Opens the chain store of a data directory for reading (works while `serve` runs:
/// SQLite WAL lets readers in beside the writer).
package struct ReadOnlyChain {
    package let directory: DataDirectory
    package let store: ChainStore
    package let gatewayKey: PublicIdentity
    /// The super node's checkpoints; nil when the gateway never had a checkpoint store.
    package let checkpoints: CheckpointStore?

    package init(_ directory: DataDirectory) throws {
        try directory.requireInitialised()
        self.directory = directory
        gatewayKey = try directory.loadPublicKey()
        guard FileManager.default.fileExists(atPath: directory.chainPath) else {
            throw DataDirectoryError.chainMissing(path: directory.chainPath)
        }
        do { store = try ChainStore(path: directory.chainPath, check: .none) } catch {
            throw DataDirectoryError.storeUnavailable(
                what: "chain store",
                path: directory.chainPath,
                creating: false,
                underlying: "\(error)"
            )
        }
        do { checkpoints = try CheckpointStore.openIfPresent(path: directory.checkpointsPath) } catch {
            throw DataDirectoryError.storeUnavailable(
                what: "checkpoint store",
                path: directory.checkpointsPath,
                creating: false,
                underlying: "\(error)"
            )
        }
    }

    /// Acknowledged entries not yet sealed (0 when the journal is absent).
    package func journalCount() -> Int {
        guard FileManager.default.fileExists(atPath: directory.journalPath) else { return 0 }
        return (try? PendingJournal(path: directory.journalPath).count()) ?? 0
    }

    package func journalEntries() -> [PendingEntry] {
        guard FileManager.default.fileExists(atPath: directory.journalPath),
            let tree = try? store.tip()?.treeSize ?? 0,
            let entries = try? PendingJournal(path: directory.journalPath).entries()
        else { return [] }
        return entries.filter { $0.index >= tree }.compactMap { e in
            (try? SignedRecord(bytes: e.bytes)).map { PendingEntry(index: e.index, time: e.time, entry: $0) }
        }
    }
}

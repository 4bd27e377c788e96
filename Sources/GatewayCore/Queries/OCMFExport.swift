import Foundation
import LedgerLite
import LedgerStore

/// The OCMF documents a meter signed for a time window, each with the chain entry of its
/// commitment: what `edge-gateway export ocmf` writes. Read from the `OCMFArchive` through
/// its (meter, period) index and checked against the chain store (or the pending journal)
/// by the entry index each row names, so the cost follows the documents in the window.
package struct OCMFExport {
    /// One exported document.
    package struct Row: Sendable {
        /// The archived document.
        package var document: OCMFArchive.Document
        /// Its commitment (from the chain entry).
        package var commitment: OCMFCommitment
        /// The block holding the commitment; nil while it waits in the journal for the next seal.
        package var height: UInt64?
    }

    /// Documents whose period lies in the window, in period order.
    package var rows: [Row] = []
    /// Archive rows whose commitment is not on the chain (a journal write that failed after
    /// the archive's): not exported.
    package var orphans = 0

    /// Most documents one export writes (a year of 15-minute periods is 35,040).
    package static let maxDocuments = 100_000

    /// Reads `meter`'s documents with a period within `from ..< until` (ms UTC).
    package init(chain: ReadOnlyChain, meter: MeterID, from: Int64, until: Int64) throws {
        let path = chain.directory.ocmfPath
        guard FileManager.default.fileExists(atPath: path) else { return }
        let archive = try OCMFArchive(path: path)
        let documents = try archive.documents(meter: meter, from: from, until: until, limit: Self.maxDocuments)
        guard !documents.isEmpty else { return }
        let journal = Dictionary(
            chain.journalEntries().map { ($0.index, $0.entry.bytes) },
            uniquingKeysWith: { first, _ in first }
        )
        for document in documents {
            var height: UInt64?
            if let stored = try chain.store.entry(at: document.index), stored.entry.bytes == document.envelope {
                height = stored.height
            } else if journal[document.index] != document.envelope {
                orphans += 1
                continue
            }
            let entry = try SignedRecord(bytes: document.envelope)
            guard case .ocmfCommitment(let commitment) = entry.record,
                Hash256.sha256(Array(document.text.utf8)) == commitment.ocmfHash
            else {
                orphans += 1
                continue
            }
            rows.append(Row(document: document, commitment: commitment, height: height))
        }
    }
}

import LedgerLite
import LedgerStore

/// Entries staged for one durable write: applied to the builder in order, journaled together.
package struct CommitGroup {
    /// Tree index of the group's first entry.
    package let base: UInt64
    /// The staged entries, in index order.
    package fileprivate(set) var entries: [SignedRecord] = []
    /// Blocks the builder sealed while the group was staged; they reach the archiver only
    /// once the group is durable.
    package fileprivate(set) var sealed: [SealedBlock] = []
    /// The OCMF strings of the group's OCMF commitments: written to the `OCMFArchive` before
    /// the journal, so no commitment is durable without its string.
    package private(set) var documents: [OCMFArchive.Document] = []

    package init(base: UInt64) { self.base = base }

    /// Adds the OCMF string of a commitment staged into this group.
    package mutating func add(_ document: OCMFArchive.Document) { documents.append(document) }
}

/// The one commit path. Every kind of entry (reading, offer, request and its dispatch,
/// escalation, authority, enrollment, revocation, policy, anomaly) reaches the chain the
/// same way, in this order:
///
/// 1. `stage`: the builder applies the chain rules and takes the entry (sealing by size as
///    it goes), so the next decision of the same group sees it;
/// 2. `commit`: the group's OCMF strings are written to the OCMF archive, then the group to
///    the pending journal in one transaction (one fsync each);
/// 3. only then are the group's sealed blocks handed to the archiver and its answers given.
///
/// If the journal cannot be written, the writer resumes from what is durable (the store and
/// the journal), which drops the whole group from memory; if even that fails it halts.
extension ChainWriter {
    /// Applies the chain rules to `entry` and adds it to the builder and to `group`.
    /// The caller has checked the signature against `state.signingKey(for:)`.
    /// - Throws: the builder's refusal; then nothing changed.
    package func stage(_ entry: SignedRecord, at now: Int64, in group: inout CommitGroup) throws(BuilderError) {
        let index = builder.tree.size
        let sealed = try builder.add(signatureChecked: entry, at: now)
        pending.append(PendingEntry(index: index, time: now, entry: entry))
        noteAccepted(entry, index: index)
        group.entries.append(entry)
        if let sealed { group.sealed.append(self.sealed(sealed)) }
    }

    /// Makes a staged group durable, then hands its sealed blocks to the archiver.
    /// - Returns: nil when the group is durable (or empty), else why not; the group is
    ///   then gone from memory too.
    package func commit(_ group: CommitGroup, at now: Int64) -> String? {
        defer { refreshGauges() }
        guard !group.entries.isEmpty else { return nil }
        do {
            try ocmfArchive.save(group.documents)
            try journal.append(
                group.entries.enumerated().map {
                    PendingJournal.Entry(index: group.base + UInt64($0.offset), time: now, bytes: $0.element.bytes)
                }
            )
        } catch {
            logger.error(
                "cannot write the pending journal (or the OCMF archive before it); the entries are not recorded",
                metadata: ["error": "\(error)", "path": "\(journal.path)", "entries": "\(group.entries.count)"]
            )
            reload(haltOnFailure: true)
            return "the gateway could not store it durably (\(error))"
        }
        for block in group.sealed { persist(block) }
        return nil
    }

    /// Stages `entries` and commits them as one group.
    /// - Throws: why nothing was recorded.
    package func commit(entries: [SignedRecord], at now: Int64) throws(CommitFailure) {
        resumeAfterArchiveFailure()
        if let halted { throw .halted(Self.haltedDetail(halted)) }
        var group = CommitGroup(base: builder.tree.size)
        for entry in entries {
            do { try stage(entry, at: now, in: &group) } catch {
                // Entries staged before this one are in memory only: drop them.
                if !group.entries.isEmpty { reload(haltOnFailure: true) }
                throw .refused(error)
            }
        }
        if let failure = commit(group, at: now) { throw .notDurable(failure) }
    }
}

/// Why `commit(entries:at:)` recorded nothing.
package enum CommitFailure: Error, CustomStringConvertible {
    /// The writer has stopped writing after a storage error (the text says what to do).
    case halted(String)
    /// The chain's rules (or the builder) refuse an entry.
    case refused(BuilderError)
    /// The journal could not be written.
    case notDurable(String)

    package var description: String {
        switch self {
        case let .halted(detail), let .notDurable(detail): return detail
        case let .refused(error): return "the chain refuses the record: \(error)"
        }
    }
}

import LedgerLite

extension ChainStore {
    /// Runs the start-up check; throws the first problem found.
    func checkIntegrity(_ check: StoreCheck) throws {
        if check == .none { return }
        // A store whose first blocks were archived is checked from its boundary on.
        let archived = try archivedPrefix()
        var previous: ChainTip? = archived?.snapshot.tip
        var tree = archived?.snapshot.tree ?? MerkleTree(retainingLeaves: false)
        if let archived, archived.header.hash != archived.snapshot.tip.hash {
            throw ChainStoreError.archiveBoundary(
                height: archived.header.header.height,
                "its snapshot is not of that block"
            )
        }
        try forEachRawBlock { raw in
            let expectedHeight = previous.map { $0.height + 1 } ?? 0
            guard raw.rowHeight == expectedHeight else {
                throw ChainStoreError.missingBlock(height: expectedHeight, nextStored: raw.rowHeight)
            }
            let signed: SignedBlockHeader
            do { signed = try SignedBlockHeader(bytes: raw.signedHeader) } catch let error as RecordDecodingError {
                throw ChainStoreError.undecodableHeader(height: raw.rowHeight, error)
            }
            let header = signed.header
            guard header.height == raw.rowHeight else {
                throw ChainStoreError.headerHeightMismatch(row: raw.rowHeight, header: header.height)
            }
            guard signed.hash.bytes == raw.storedHash else {
                throw ChainStoreError.storedHashMismatch(height: raw.rowHeight)
            }
            guard header.previousHash == (previous?.hash ?? .zero) else {
                throw ChainStoreError.brokenLink(height: raw.rowHeight)
            }
            let firstIndex = previous?.treeSize ?? 0
            guard header.treeSize == firstIndex + UInt64(header.entryCount) else {
                throw ChainStoreError.treeSizeMismatch(
                    height: raw.rowHeight,
                    expected: firstIndex + UInt64(header.entryCount),
                    header: header.treeSize
                )
            }
            for (offset, entry) in raw.entries.enumerated() where entry.index != firstIndex + UInt64(offset) {
                throw ChainStoreError.entryIndexMismatch(
                    height: raw.rowHeight,
                    expected: firstIndex + UInt64(offset),
                    found: entry.index
                )
            }
            guard raw.entries.count == Int(header.entryCount) else {
                throw ChainStoreError.entryCountMismatch(
                    height: raw.rowHeight,
                    header: header.entryCount,
                    stored: raw.entries.count
                )
            }
            if check == .full {
                for entry in raw.entries { tree.append(entry: entry.bytes) }
                guard tree.root == header.merkleRoot else {
                    throw ChainStoreError.merkleRootMismatch(height: raw.rowHeight)
                }
            }
            previous = ChainTip(signed)
        }
        let orphans = try orphanEntries()
        if orphans.count > 0, let first = orphans.firstIndex {
            throw ChainStoreError.orphanEntries(count: orphans.count, firstIndex: first)
        }
    }
}

/// What is wrong with a chain store, or why an append was refused.
/// Start-up errors mean the file was torn or edited outside LedgerLite.
public enum ChainStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No block row at `height`; the next stored one is `nextStored`.
    case missingBlock(height: UInt64, nextStored: UInt64)
    /// A stored header does not decode.
    case undecodableHeader(height: UInt64, RecordDecodingError)
    /// The row at height `row` holds a header for height `header` (blocks moved or swapped).
    case headerHeightMismatch(row: UInt64, header: UInt64)
    /// The stored block hash is not the hash of the stored header.
    case storedHashMismatch(height: UInt64)
    /// The header's previous hash is not the previous block's hash.
    case brokenLink(height: UInt64)
    /// The header's tree size is not the previous tree size plus its entry count.
    case treeSizeMismatch(height: UInt64, expected: UInt64, header: UInt64)
    /// The block's entry rows do not have consecutive global indices.
    case entryIndexMismatch(height: UInt64, expected: UInt64, found: UInt64)
    /// The header lists `header` entries but `stored` rows exist.
    case entryCountMismatch(height: UInt64, header: UInt32, stored: Int)
    /// The Merkle root recomputed over the stored entries differs from the header's.
    case merkleRootMismatch(height: UInt64)
    /// Entry rows that belong to no block.
    case orphanEntries(count: Int, firstIndex: UInt64)
    /// `append` refused a block that does not extend the stored chain.
    case appendRejected(height: UInt64, reason: String)
    /// A Merkle node a proof needs is not in `merkle_node`, nor can its entries be read.
    case missingMerkleNode(level: Int, index: UInt64)
    /// The archive boundary (the snapshot after the last archived block) is unusable.
    case archiveBoundary(height: UInt64, String)
    /// `recordArchive` refused a segment; nothing was pruned.
    case archiveRejected(String)

    public var description: String {
        let damaged = "the chain store is damaged (torn or edited outside LedgerLite): "
        let fix = "; restore it from a replica or the super node's copy"
        switch self {
        case let .missingBlock(height, next):
            return damaged + "block \(height) is missing (next stored block is \(next))" + fix
        case let .undecodableHeader(height, error):
            return damaged + "the header of block \(height) does not decode: \(error)" + fix
        case let .headerHeightMismatch(row, header):
            return damaged
                + "the block stored at height \(row) carries a header for height \(header) (blocks moved or swapped)"
                + fix
        case let .storedHashMismatch(height):
            return damaged + "block \(height)'s stored hash does not match its header" + fix
        case let .brokenLink(height):
            return damaged + "block \(height)'s previous hash is not block \(height - 1)'s hash" + fix
        case let .treeSizeMismatch(height, expected, header):
            return damaged + "block \(height) says tree size \(header), expected \(expected)" + fix
        case let .entryIndexMismatch(height, expected, found):
            return damaged
                + "block \(height): expected entry index \(expected), found \(found) (entry \(expected) is missing or moved)"
                + fix
        case let .entryCountMismatch(height, header, stored):
            return damaged + "block \(height)'s header lists \(header) entries but the store holds \(stored)" + fix
        case let .merkleRootMismatch(height):
            return damaged + "block \(height)'s Merkle root does not match its stored entries (an entry was changed)"
                + fix
        case let .orphanEntries(count, first):
            return damaged + "\(count) entries (from index \(first)) belong to no block" + fix
        case let .appendRejected(height, reason):
            return "block \(height) was not appended: \(reason)"
        case let .archiveBoundary(height, what):
            return damaged + "the archive boundary after block \(height) is unusable: \(what)" + fix
        case let .archiveRejected(reason):
            return "the archive segment was not recorded, nothing was pruned: \(reason)"
        case let .missingMerkleNode(level, index):
            return damaged
                + "the Merkle node of \(1 << level) entries from entry \(index << UInt64(level)) is missing" + fix
        }
    }
}

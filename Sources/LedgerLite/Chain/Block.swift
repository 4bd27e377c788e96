/// A sealed block: its signed header and its entries in index order.
public struct Block: Hashable, Sendable {
    /// The signed header.
    public let header: SignedBlockHeader
    /// The entries, with global indices `header.header.treeSize - entryCount ..< treeSize`.
    public let entries: [SignedRecord]

    /// Pairs a header with its entries.
    public init(header: SignedBlockHeader, entries: [SignedRecord]) {
        self.header = header
        self.entries = entries
    }

    /// The block's height.
    public var height: UInt64 { header.header.height }
    /// The block's hash.
    public var hash: Hash256 { header.hash }
    /// Global index of the first entry.
    public var firstEntryIndex: UInt64 { header.header.treeSize - UInt64(header.header.entryCount) }
}

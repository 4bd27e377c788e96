/// A stored block before decoding, as an integrity check and the verifier read it.
public struct RawBlock: Sendable {
    /// The height of the row the block is stored under (it must match its header's).
    public var rowHeight: UInt64
    /// The block hash as stored beside the header.
    public var storedHash: [UInt8]
    /// The signed header's exact bytes.
    public var signedHeader: [UInt8]
    /// The block's entries: global index and exact signed bytes, in index order.
    public var entries: [(index: UInt64, bytes: [UInt8])]

    /// A raw block as read from a store.
    public init(
        rowHeight: UInt64,
        storedHash: [UInt8],
        signedHeader: [UInt8],
        entries: [(index: UInt64, bytes: [UInt8])]
    ) {
        self.rowHeight = rowHeight
        self.storedHash = storedHash
        self.signedHeader = signedHeader
        self.entries = entries
    }
}

/// Where the verifier reads a whole chain from: a store that hands out its blocks undecoded,
/// in height order, from one consistent snapshot.
public protocol RawBlockSource {
    /// Calls `body` with each stored block in height order.
    func forEachRawBlock(_ body: (RawBlock) throws -> Void) throws
    /// How many stored entries belong to no block, and the lowest index among them.
    func orphanEntries() throws -> (count: Int, firstIndex: UInt64?)
    /// Where the source's blocks start when its first blocks were archived (nil: at height 0).
    func archivedPrefix() throws -> ArchivedPrefix?
}

extension RawBlockSource {
    /// A source that keeps every block.
    public func archivedPrefix() throws -> ArchivedPrefix? { nil }
}

/// The chain up to an archive boundary, as the blocks after it need it: the rules state,
/// tip and Merkle frontier after the boundary block, and that block's signed header, which
/// vouches for them (its hash, tree size, Merkle root and state digest).
public struct ArchivedPrefix: Sendable {
    /// The snapshot after `header`'s block.
    public var snapshot: ChainSnapshot
    /// The signed header of the last archived block.
    public var header: SignedBlockHeader

    /// Pairs a snapshot with the header it claims to follow (checked by the verifier).
    public init(snapshot: ChainSnapshot, header: SignedBlockHeader) {
        self.snapshot = snapshot
        self.header = header
    }
}

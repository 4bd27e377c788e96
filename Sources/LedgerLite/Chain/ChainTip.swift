/// The latest block of a chain, as far as what comes next needs to know.
public struct ChainTip: Hashable, Sendable {
    /// Height of the latest block.
    public var height: UInt64
    /// Hash of the latest block.
    public var hash: Hash256
    /// Entries in the chain so far.
    public var treeSize: UInt64
    /// The latest block's `lastTimestamp`.
    public var lastTimestamp: Int64

    /// Creates a tip.
    public init(height: UInt64, hash: Hash256, treeSize: UInt64, lastTimestamp: Int64) {
        self.height = height
        self.hash = hash
        self.treeSize = treeSize
        self.lastTimestamp = lastTimestamp
    }

    /// The tip after `block`.
    public init(_ block: SignedBlockHeader) {
        self.init(
            height: block.header.height,
            hash: block.hash,
            treeSize: block.header.treeSize,
            lastTimestamp: block.header.lastTimestamp
        )
    }
}

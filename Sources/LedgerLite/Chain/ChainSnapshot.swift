/// What a block builder needs to continue a chain after one of its blocks without reading
/// the blocks before it: the tip, the Merkle frontier (compact range) and the rules state
/// after that block. A gateway stores one with its blocks (docs/FORMATS.md, "Resume
/// snapshot") and checks it against the tip's signed header at start-up
/// (`disagreement(with:)`), instead of replaying the whole chain.
public struct ChainSnapshot: Sendable {
    /// What in a snapshot disagrees with the chain it claims to continue (one line).
    public struct Disagreement: Error, Sendable, CustomStringConvertible {
        public let description: String
        /// A disagreement described by `description`.
        public init(_ description: String) { self.description = description }
    }

    /// The block the snapshot is taken after.
    public private(set) var tip: ChainTip
    /// The tree over every entry up to the tip, holding only its frontier once decoded.
    public private(set) var tree: MerkleTree
    /// The rules state after the tip.
    public private(set) var state: ChainState

    /// A snapshot of a chain after `tip`.
    public init(tip: ChainTip, tree: MerkleTree, state: ChainState) {
        self.tip = tip
        self.tree = tree
        self.state = state
    }

    /// Whether a snapshot is due after the block at `height`, with `entriesSince` entries
    /// stored since the last one: after the first block, then every `every` entries but never
    /// more often than every `meterCount` entries, since writing one costs O(meters): so its
    /// cost stays O(1) per entry, amortised, and the replay after it stays bounded.
    public static func isDue(afterHeight height: UInt64, entriesSince: UInt64, every: UInt64, meterCount: Int) -> Bool {
        height == 0 || entriesSince >= max(every, UInt64(meterCount))
    }

    /// Appends the snapshot to `w`: tip (height, hash, tree size, last timestamp), the
    /// frontier's hashes (as many as bits set in the tree size), then the rules state.
    package func write(to w: inout ByteWriter) {
        w.u64(tip.height)
        w.hash(tip.hash)
        w.u64(tip.treeSize)
        w.i64(tip.lastTimestamp)
        for hash in tree.frontier { w.hash(hash) }
        state.writeSnapshot(to: &w)
    }

    /// Reads a snapshot written by `write(to:)`.
    package init(from r: inout ByteReader) throws(RecordDecodingError) {
        let tip = ChainTip(
            height: try r.u64("tip height"),
            hash: try r.hash("tip hash"),
            treeSize: try r.u64("tip tree size"),
            lastTimestamp: try r.i64("tip last timestamp")
        )
        var frontier: [Hash256] = []
        for _ in 0..<tip.treeSize.nonzeroBitCount { frontier.append(try r.hash("Merkle frontier")) }
        let tree: MerkleTree
        do { tree = try MerkleTree(frontier: frontier, size: tip.treeSize) } catch {
            throw .invalidField(field: "Merkle frontier", reason: "\(error)")
        }
        self.init(tip: tip, tree: tree, state: try ChainState(snapshot: &r))
    }

    /// What in this snapshot disagrees with `signed`, the header of the block it claims to
    /// follow (height, hash, tree size, last timestamp, the frontier's root against the
    /// Merkle root, the state's digest, the signature by the state's gateway key); nil when
    /// nothing does.
    /// (The digest is the one the header's version names; computing it brings the state's
    /// incremental commitment up to date, hence `mutating`.)
    public mutating func disagreement(with signed: SignedBlockHeader) -> String? {
        let header = signed.header
        if header.height != tip.height {
            return "it is taken after block \(tip.height), the header is of block \(header.height)"
        }
        if signed.hash != tip.hash {
            return "its tip hash \(tip.hash.hex) is not block \(header.height)'s hash \(signed.hash.hex)"
        }
        if header.treeSize != tip.treeSize || tree.size != tip.treeSize {
            return "its tree size \(tip.treeSize) is not block \(header.height)'s \(header.treeSize)"
        }
        if header.lastTimestamp != tip.lastTimestamp {
            return "its last timestamp \(tip.lastTimestamp) is not block \(header.height)'s \(header.lastTimestamp)"
        }
        if tree.root != header.merkleRoot {
            return "the root of its Merkle frontier is not block \(header.height)'s Merkle root"
        }
        if state.stateDigest(forHeaderVersion: header.version) != header.stateDigest {
            return "the digest of its TNT state is not block \(header.height)'s state digest"
        }
        if header.gateway != state.gatewayKey.id || !signed.isSignatureValid(by: state.gatewayKey) {
            return "block \(header.height)'s header is not signed by the gateway key \(state.gatewayKey.id.hex)"
        }
        return nil
    }

    /// Moves the snapshot past `block`, the next block of the chain: its link, height, tree
    /// size, entries (decoded by the store, applied by the chain rules; signatures are not
    /// checked again, the header's Merkle root and signature cover them), Merkle root and
    /// signature. The state digest is left to `disagreement(with:)` at the last block.
    /// - Returns: what disagrees, nil when the block follows.
    public mutating func extend(with block: Block) -> String? {
        let header = block.header.header
        guard tip.height < UInt64.max, header.height == tip.height + 1, header.previousHash == tip.hash else {
            return "block \(header.height) does not follow block \(tip.height) (height or previous hash)"
        }
        let size = tip.treeSize.addingReportingOverflow(UInt64(block.entries.count))
        guard !size.overflow, header.treeSize == size.partialValue, Int(header.entryCount) == block.entries.count
        else { return "block \(header.height)'s entries do not match its tree size" }
        for (offset, entry) in block.entries.enumerated() {
            do { try state.apply(entry) } catch {
                return
                    "entry \(block.firstEntryIndex + UInt64(offset)) of block \(header.height) breaks the chain rules: \(error)"
            }
            tree.append(leafHash: entry.leafHash)
        }
        guard tree.root == header.merkleRoot else {
            return "block \(header.height)'s Merkle root does not match its entries"
        }
        guard block.header.isSignatureValid(by: state.gatewayKey) else {
            return "block \(header.height)'s header is not signed by the gateway key \(state.gatewayKey.id.hex)"
        }
        tip = ChainTip(block.header)
        return nil
    }
}

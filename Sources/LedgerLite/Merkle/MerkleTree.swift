/// An append-only RFC 6962 Merkle tree over the chain's global entry index.
///
/// Keeps the hashes of complete subtrees, so appending is amortised O(1), the root of any
/// earlier size is O(log n), and proofs are O(log² n) at worst.
///
/// A tree made with `retainingLeaves: false` (what the block builder and the verifier
/// use) keeps subtrees of fewer than `chunkSize` leaves only for the last, unfinished
/// chunk: about 64 bytes per 1,024 entries instead of 64 bytes per entry, so a gateway's
/// memory stays flat however long its chain grows. Proofs and earlier roots that need a
/// finished chunk's inner hashes then take a `LeafSource` that reads that chunk's leaf
/// hashes back (from the chain store).
public struct MerkleTree: Sendable {
    /// Leaves per chunk below which a pruned tree forgets inner hashes (2^chunkLevel).
    public static let chunkLevel = 10
    public static let chunkSize: UInt64 = 1 << UInt64(chunkLevel)

    /// Reads the leaf hashes of a range of entries (for a pruned tree's finished chunks).
    public typealias LeafSource = (Range<UInt64>) throws -> [Hash256]

    /// levels[k][i] is the hash of the perfect subtree of 2^k leaves starting at leaf
    /// (i + offset(k))·2^k, where offset(k) is 0 unless the tree is pruned and k is below
    /// `chunkLevel` (then the levels start at the unfinished chunk).
    private var levels: [[Hash256]] = [[]]
    /// Number of leaves.
    public private(set) var size: UInt64 = 0
    /// First leaf of the unfinished chunk (0 for a tree that retains every leaf).
    private var chunkBase: UInt64 = 0
    /// False when finished chunks' inner hashes are dropped.
    public let retainsLeaves: Bool
    /// For a tree restored from its frontier (`init(frontier:size:)`): the first node index
    /// held at each level; nodes left of the frontier are not held. Empty otherwise.
    private var frontierBase: [UInt64] = []

    /// An empty tree. With `retainingLeaves: false` only the unfinished chunk's inner
    /// hashes are kept (see the type's documentation).
    public init(retainingLeaves: Bool = true) {
        retainsLeaves = retainingLeaves
    }

    /// Appends an entry (its leaf hash is SHA-256(0x00 ‖ entry)).
    public mutating func append<D: DataProtocolLike>(entry: D) {
        append(leafHash: Merkle.leafHash(entry))
    }

    /// Appends a leaf by its hash.
    public mutating func append(leafHash: Hash256) {
        levels[0].append(leafHash)
        var level = 0
        var index = size
        size += 1
        while index & 1 == 1 {
            let parent = Merkle.nodeHash(stored(level, index - 1), stored(level, index))
            level += 1
            if levels.count == level { levels.append([]) }
            levels[level].append(parent)
            index >>= 1
        }
        if !retainsLeaves && size % Self.chunkSize == 0 {
            for k in 0..<Self.chunkLevel { levels[k].removeAll(keepingCapacity: true) }
            chunkBase = size
        }
    }

    /// The index of the first node `levels[k]` holds.
    private func offset(_ k: Int) -> UInt64 {
        let pruned = k < Self.chunkLevel ? chunkBase >> UInt64(k) : 0
        return k < frontierBase.count ? max(pruned, frontierBase[k]) : pruned
    }

    /// A retained node: level `k`, node index `i` (leaves i·2^k ..< (i+1)·2^k).
    private func stored(_ k: Int, _ i: UInt64) -> Hash256 {
        levels[k][Int(i - offset(k))]
    }

    /// True when the perfect subtree at level `k`, index `i` is held in memory.
    private func isRetained(_ k: Int, _ i: UInt64) -> Bool {
        i >= offset(k) && (k >= Self.chunkLevel || (i << UInt64(k)) >= chunkBase)
    }

    /// The compact range of the whole tree: the roots of its perfect subtrees, one per bit
    /// set in `size`, from the largest (leftmost) to the smallest. O(log n) hashes, from
    /// which the root and every later append follow (`init(frontier:size:)`).
    public var frontier: [Hash256] {
        var hashes: [Hash256] = []
        for k in stride(from: 63, through: 0, by: -1) where size >> UInt64(k) & 1 == 1 {
            hashes.append(stored(k, (size >> UInt64(k)) - 1))
        }
        return hashes
    }

    /// A pruned tree (`retainingLeaves: false`) of `size` leaves that holds only its frontier:
    /// it appends and gives its root as the original tree would; a proof or earlier root that
    /// needs a node left of the frontier throws `MerkleError.leavesNotRetained`.
    /// - Throws: `MerkleError.frontierMismatch` unless there is one hash per bit set in `size`.
    public init(frontier: [Hash256], size: UInt64) throws(MerkleError) {
        guard frontier.count == size.nonzeroBitCount else {
            throw .frontierMismatch(size: size, hashes: frontier.count)
        }
        retainsLeaves = false
        self.size = size
        chunkBase = size - size % Self.chunkSize
        let height = 64 - size.leadingZeroBitCount
        levels = Array(repeating: [], count: max(1, height))
        frontierBase = (0..<max(1, height)).map { size >> UInt64($0) }
        var next = frontier.makeIterator()
        for k in stride(from: height - 1, through: 0, by: -1) where size >> UInt64(k) & 1 == 1 {
            frontierBase[k] -= 1
            levels[k].append(next.next()!)
        }
    }

    /// The leaf hash at `index`.
    /// - Throws: `MerkleError.leavesNotRetained` for a finished chunk of a pruned tree.
    public func leafHash(at index: UInt64) throws(MerkleError) -> Hash256 {
        guard index < size else { throw .indexOutOfRange(index: index, treeSize: size) }
        guard isRetained(0, index) else { throw .leavesNotRetained(index) }
        return stored(0, index)
    }

    /// The root of the whole tree (always available: it needs only retained nodes).
    public var root: Hash256 {
        var nodes = NodeReader(tree: self, leaves: nil)
        do { return try nodes.subtree(0, size) } catch {
            // The whole tree decomposes into retained nodes only; anything else is a bug
            // that must not be signed into a block header.
            preconditionFailure("the Merkle root needed a node the tree does not hold: \(error)")
        }
    }

    /// The root the tree had when it held `treeSize` leaves.
    /// - Throws: `MerkleError.leavesNotRetained` when a pruned tree needs a finished chunk.
    public func root(treeSize: UInt64) throws(MerkleError) -> Hash256 {
        guard treeSize <= size else { throw .sizeBeyondTree(requested: treeSize, treeSize: size) }
        var nodes = NodeReader(tree: self, leaves: nil)
        return try Self.typed { try nodes.subtree(0, treeSize) }
    }

    /// The inclusion proof for leaf `index` in the tree of size `treeSize` (RFC 6962 §2.1.1 PATH).
    /// - Throws: `MerkleError.leavesNotRetained` when a pruned tree needs a finished chunk.
    public func inclusionProof(index: UInt64, treeSize: UInt64) throws(MerkleError) -> InclusionProof {
        try Self.typed { try inclusionProof(index: index, treeSize: treeSize, leaves: nil) }
    }

    /// The inclusion proof for leaf `index` in the tree of size `treeSize`, reading the
    /// leaf hashes of finished chunks from `leaves` where the tree no longer holds them
    /// (at most two chunks a proof). Errors from `leaves` are passed on.
    public func inclusionProof(index: UInt64, treeSize: UInt64, leaves: LeafSource?) throws -> InclusionProof {
        guard treeSize <= size else { throw MerkleError.sizeBeyondTree(requested: treeSize, treeSize: size) }
        guard index < treeSize else { throw MerkleError.indexOutOfRange(index: index, treeSize: treeSize) }
        var nodes = NodeReader(tree: self, leaves: leaves)
        var hashes = [Hash256]()
        try nodes.path(index, 0, treeSize, into: &hashes)
        return InclusionProof(leafIndex: index, treeSize: treeSize, path: hashes)
    }

    /// The consistency proof from size `from` to size `to` (RFC 6962 §2.1.2 PROOF).
    /// - Throws: `MerkleError.leavesNotRetained` when a pruned tree needs a finished chunk.
    public func consistencyProof(from first: UInt64, to second: UInt64) throws(MerkleError) -> ConsistencyProof {
        try Self.typed { try consistencyProof(from: first, to: second, leaves: nil) }
    }

    /// The consistency proof from size `from` to size `to`, reading finished chunks'
    /// leaf hashes from `leaves` where needed.
    public func consistencyProof(from first: UInt64, to second: UInt64, leaves: LeafSource?) throws -> ConsistencyProof
    {
        guard second <= size else { throw MerkleError.sizeBeyondTree(requested: second, treeSize: size) }
        guard first <= second else { throw MerkleError.invalidSizes(first: first, second: second) }
        var nodes = NodeReader(tree: self, leaves: leaves)
        var path = [Hash256]()
        if first > 0 && first < second { try nodes.subproof(first, 0, second, true, into: &path) }
        return ConsistencyProof(firstSize: first, secondSize: second, path: path)
    }

    private static func typed<T>(_ body: () throws -> T) throws(MerkleError) -> T {
        do { return try body() } catch let error as MerkleError { throw error } catch {
            preconditionFailure("no leaf source was given, so only MerkleError can be thrown: \(error)")
        }
    }

    /// Reads subtree hashes: retained nodes from the tree, finished chunks' inner nodes
    /// rebuilt from their leaf hashes (each chunk loaded once per reader).
    private struct NodeReader: PerfectSubtrees {
        let tree: MerkleTree
        let leaves: LeafSource?
        var chunks: [UInt64: MerkleTree] = [:]

        /// Throws only for a node of a finished chunk, which the whole-tree root never needs
        /// (it decomposes into retained nodes).
        mutating func perfectSubtree(level: Int, index: UInt64) throws -> Hash256 {
            if tree.isRetained(level, index) { return tree.stored(level, index) }
            let start = index << UInt64(level)
            return try chunk(containing: start).stored(
                level,
                index - (start / MerkleTree.chunkSize) << UInt64(MerkleTree.chunkLevel - level)
            )
        }

        /// A full tree over the finished chunk holding `leaf`, its indices chunk-relative.
        private mutating func chunk(containing leaf: UInt64) throws -> MerkleTree {
            let number = leaf / MerkleTree.chunkSize
            if let cached = chunks[number] { return cached }
            guard tree.isRetained(MerkleTree.chunkLevel, number) else { throw MerkleError.leavesNotRetained(leaf) }
            let range = number * MerkleTree.chunkSize..<(number + 1) * MerkleTree.chunkSize
            guard let leaves else { throw MerkleError.leavesNotRetained(leaf) }
            let hashes = try leaves(range)
            guard hashes.count == range.count else {
                throw MerkleError.leafSourceShort(range: range, returned: hashes.count)
            }
            var rebuilt = MerkleTree()
            for hash in hashes { rebuilt.append(leafHash: hash) }
            guard rebuilt.root == tree.stored(MerkleTree.chunkLevel, number) else {
                throw MerkleError.leafSourceMismatch(range: range)
            }
            chunks[number] = rebuilt
            return rebuilt
        }
    }
}

/// Where RFC 6962's recursions get the hash of a perfect, aligned subtree: 2^`level` leaves
/// starting at leaf `index`·2^`level`. Roots and proofs of any size are built from these
/// alone, so a tree held in memory (`MerkleTree`) and one held in a store
/// (`StoredMerkleTree`) share one implementation of MTH, PATH and SUBPROOF.
protocol PerfectSubtrees {
    mutating func perfectSubtree(level: Int, index: UInt64) throws -> Hash256
}

extension PerfectSubtrees {
    /// MTH over leaves [start, start+count).
    mutating func subtree(_ start: UInt64, _ count: UInt64) throws -> Hash256 {
        if count == 0 { return Merkle.emptyRoot }
        if count & (count - 1) == 0 && start % count == 0 {
            let level = count.trailingZeroBitCount
            return try perfectSubtree(level: level, index: start >> UInt64(level))
        }
        let k = Merkle.splitPoint(count)
        return Merkle.nodeHash(try subtree(start, k), try subtree(start + k, count - k))
    }

    /// RFC 6962 §2.1.1 PATH(m, D[start:start+n]).
    mutating func path(_ m: UInt64, _ start: UInt64, _ n: UInt64, into out: inout [Hash256]) throws {
        if n <= 1 { return }
        let k = Merkle.splitPoint(n)
        if m < k {
            try path(m, start, k, into: &out)
            out.append(try subtree(start + k, n - k))
        } else {
            try path(m - k, start + k, n - k, into: &out)
            out.append(try subtree(start, k))
        }
    }

    /// RFC 6962 §2.1.2 SUBPROOF(m, D[start:start+n], complete).
    mutating func subproof(
        _ m: UInt64,
        _ start: UInt64,
        _ n: UInt64,
        _ complete: Bool,
        into out: inout [Hash256]
    ) throws {
        if m == n {
            if !complete { out.append(try subtree(start, n)) }
            return
        }
        let k = Merkle.splitPoint(n)
        if m <= k {
            try subproof(m, start, k, complete, into: &out)
            out.append(try subtree(start + k, n - k))
        } else {
            try subproof(m - k, start + k, n - k, false, into: &out)
            out.append(try subtree(start, k))
        }
    }
}

/// Roots and RFC 6962 proofs of a tree whose perfect subtrees are read from elsewhere, e.g.
/// a chain store that keeps them (LedgerStore's `ChainStore`): a proof costs O(log n) reads
/// however large the tree, and needs nothing held in memory.
public struct StoredMerkleTree {
    /// The hash of the perfect subtree of 2^`level` leaves starting at leaf `index`·2^`level`.
    public typealias PerfectSubtree = (_ level: Int, _ index: UInt64) throws -> Hash256

    /// Number of leaves.
    public let size: UInt64
    private let source: PerfectSubtree

    /// A tree of `size` leaves whose perfect subtrees `perfectSubtree` reads.
    public init(size: UInt64, perfectSubtree: @escaping PerfectSubtree) {
        self.size = size
        self.source = perfectSubtree
    }

    private struct Nodes: PerfectSubtrees {
        let source: PerfectSubtree
        func perfectSubtree(level: Int, index: UInt64) throws -> Hash256 { try source(level, index) }
    }

    /// The root the tree had when it held `treeSize` leaves.
    public func root(treeSize: UInt64) throws -> Hash256 {
        guard treeSize <= size else { throw MerkleError.sizeBeyondTree(requested: treeSize, treeSize: size) }
        var nodes = Nodes(source: source)
        return try nodes.subtree(0, treeSize)
    }

    /// The inclusion proof for leaf `index` in the tree of size `treeSize`.
    public func inclusionProof(index: UInt64, treeSize: UInt64) throws -> InclusionProof {
        guard treeSize <= size else { throw MerkleError.sizeBeyondTree(requested: treeSize, treeSize: size) }
        guard index < treeSize else { throw MerkleError.indexOutOfRange(index: index, treeSize: treeSize) }
        var nodes = Nodes(source: source)
        var hashes = [Hash256]()
        try nodes.path(index, 0, treeSize, into: &hashes)
        return InclusionProof(leafIndex: index, treeSize: treeSize, path: hashes)
    }

    /// The consistency proof from size `first` to size `second`.
    public func consistencyProof(from first: UInt64, to second: UInt64) throws -> ConsistencyProof {
        guard second <= size else { throw MerkleError.sizeBeyondTree(requested: second, treeSize: size) }
        guard first <= second else { throw MerkleError.invalidSizes(first: first, second: second) }
        var nodes = Nodes(source: source)
        var path = [Hash256]()
        if first > 0 && first < second { try nodes.subproof(first, 0, second, true, into: &path) }
        return ConsistencyProof(firstSize: first, secondSize: second, path: path)
    }
}

/// Why a Merkle tree could not produce a root or proof.
public enum MerkleError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The leaf index is not below the tree size.
    case indexOutOfRange(index: UInt64, treeSize: UInt64)
    /// The requested size is larger than the tree.
    case sizeBeyondTree(requested: UInt64, treeSize: UInt64)
    /// A consistency proof needs first ≤ second.
    case invalidSizes(first: UInt64, second: UInt64)
    /// A pruned tree needs the leaf hashes of the finished chunk holding this leaf.
    case leavesNotRetained(UInt64)
    /// The leaf source returned fewer hashes than the chunk holds.
    case leafSourceShort(range: Range<UInt64>, returned: Int)
    /// The leaf hashes read back do not hash to the chunk's root the tree holds.
    case leafSourceMismatch(range: Range<UInt64>)
    /// A frontier must hold one hash per bit set in the tree size.
    case frontierMismatch(size: UInt64, hashes: Int)

    public var description: String {
        switch self {
        case let .indexOutOfRange(index, size): return "leaf index \(index) is outside a tree of \(size) leaves"
        case let .sizeBeyondTree(requested, size):
            return "tree size \(requested) requested but the tree has only \(size) leaves"
        case let .invalidSizes(first, second):
            return "a consistency proof needs first size \(first) ≤ second size \(second)"
        case let .leavesNotRetained(leaf):
            return "the tree no longer holds the chunk of leaf \(leaf); read its leaf hashes from the store"
        case let .leafSourceShort(range, returned):
            return "the leaf source returned \(returned) hashes for entries \(range.lowerBound)..<\(range.upperBound)"
        case let .leafSourceMismatch(range):
            return
                "the leaf hashes read for entries \(range.lowerBound)..<\(range.upperBound) do not match the tree (the store differs from the chain)"
        case let .frontierMismatch(size, hashes):
            return "a tree of \(size) leaves has a frontier of \(size.nonzeroBitCount) hashes, not \(hashes)"
        }
    }
}

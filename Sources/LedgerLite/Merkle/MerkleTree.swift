/// An append-only RFC 6962 Merkle tree over the chain's global entry index.
///
/// Keeps every complete subtree's hash, so appending is amortised O(1), the root of any
/// earlier size is O(log n), and proofs are O(log² n) at worst. Memory is about two hashes
/// (64 bytes) per leaf.
public struct MerkleTree: Sendable {
    /// levels[k][i] is the hash of the perfect subtree of 2^k leaves starting at leaf i·2^k.
    private var levels: [[Hash256]] = [[]]

    /// An empty tree.
    public init() {}

    /// The number of leaves.
    public var size: UInt64 { UInt64(levels[0].count) }

    /// Appends an entry (its leaf hash is SHA-256(0x00 ‖ entry)).
    public mutating func append<D: DataProtocolLike>(entry: D) {
        append(leafHash: Merkle.leafHash(entry))
    }

    /// Appends a leaf by its hash.
    public mutating func append(leafHash: Hash256) {
        levels[0].append(leafHash)
        var level = 0
        var index = levels[0].count - 1
        while index & 1 == 1 {
            let parent = Merkle.nodeHash(levels[level][index - 1], levels[level][index])
            level += 1
            if levels.count == level { levels.append([]) }
            levels[level].append(parent)
            index >>= 1
        }
    }

    /// The leaf hash at `index`.
    public func leafHash(at index: UInt64) throws(MerkleError) -> Hash256 {
        guard index < size else { throw .indexOutOfRange(index: index, treeSize: size) }
        return levels[0][Int(index)]
    }

    /// The root of the whole tree.
    public var root: Hash256 { subtree(0, size) }

    /// The root the tree had when it held `treeSize` leaves.
    public func root(treeSize: UInt64) throws(MerkleError) -> Hash256 {
        guard treeSize <= size else { throw .sizeBeyondTree(requested: treeSize, treeSize: size) }
        return subtree(0, treeSize)
    }

    /// The inclusion proof for leaf `index` in the tree of size `treeSize` (RFC 6962 §2.1.1 PATH).
    public func inclusionProof(index: UInt64, treeSize: UInt64) throws(MerkleError) -> InclusionProof {
        guard treeSize <= size else { throw .sizeBeyondTree(requested: treeSize, treeSize: size) }
        guard index < treeSize else { throw .indexOutOfRange(index: index, treeSize: treeSize) }
        var hashes = [Hash256]()
        path(index, 0, treeSize, into: &hashes)
        return InclusionProof(leafIndex: index, treeSize: treeSize, path: hashes)
    }

    /// The consistency proof from size `from` to size `to` (RFC 6962 §2.1.2 PROOF).
    public func consistencyProof(from first: UInt64, to second: UInt64) throws(MerkleError) -> ConsistencyProof {
        guard second <= size else { throw .sizeBeyondTree(requested: second, treeSize: size) }
        guard first <= second else { throw .invalidSizes(first: first, second: second) }
        var path = [Hash256]()
        if first > 0 && first < second { subproof(first, 0, second, true, into: &path) }
        return ConsistencyProof(firstSize: first, secondSize: second, path: path)
    }

    /// MTH over leaves [start, start+count).
    private func subtree(_ start: UInt64, _ count: UInt64) -> Hash256 {
        if count == 0 { return Merkle.emptyRoot }
        if count & (count - 1) == 0 && start % count == 0 {
            let level = count.trailingZeroBitCount
            return levels[level][Int(start >> UInt64(level))]
        }
        let k = Merkle.splitPoint(count)
        return Merkle.nodeHash(subtree(start, k), subtree(start + k, count - k))
    }

    private func path(_ m: UInt64, _ start: UInt64, _ n: UInt64, into out: inout [Hash256]) {
        if n <= 1 { return }
        let k = Merkle.splitPoint(n)
        if m < k {
            path(m, start, k, into: &out)
            out.append(subtree(start + k, n - k))
        } else {
            path(m - k, start + k, n - k, into: &out)
            out.append(subtree(start, k))
        }
    }

    private func subproof(_ m: UInt64, _ start: UInt64, _ n: UInt64, _ complete: Bool, into out: inout [Hash256]) {
        if m == n {
            if !complete { out.append(subtree(start, n)) }
            return
        }
        let k = Merkle.splitPoint(n)
        if m <= k {
            subproof(m, start, k, complete, into: &out)
            out.append(subtree(start + k, n - k))
        } else {
            subproof(m - k, start + k, n - k, false, into: &out)
            out.append(subtree(start, k))
        }
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

    public var description: String {
        switch self {
        case let .indexOutOfRange(index, size): return "leaf index \(index) is outside a tree of \(size) leaves"
        case let .sizeBeyondTree(requested, size): return "tree size \(requested) requested but the tree has only \(size) leaves"
        case let .invalidSizes(first, second): return "a consistency proof needs first size \(first) ≤ second size \(second)"
        }
    }
}

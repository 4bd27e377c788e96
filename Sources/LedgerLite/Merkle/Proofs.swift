/// Proof that a leaf is in a tree of a given size (RFC 9162 §2.1.3).
public struct InclusionProof: Hashable, Sendable {
    /// The leaf's index (0-based).
    public var leafIndex: UInt64
    /// The size of the tree the proof is for.
    public var treeSize: UInt64
    /// Sibling hashes from the leaf upwards.
    public var path: [Hash256]

    /// Creates a proof from its parts.
    public init(leafIndex: UInt64, treeSize: UInt64, path: [Hash256]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.path = path
    }

    /// True when the entry with `leafHash` is at `leafIndex` in the tree with `root`.
    public func verify(leafHash: Hash256, root: Hash256) -> Bool {
        InclusionProof.verify(leafIndex: leafIndex, treeSize: treeSize, leafHash: leafHash, path: path, root: root)
    }

    /// True when `entry` is at `leafIndex` in the tree with `root`.
    public func verify<D: DataProtocolLike>(entry: D, root: Hash256) -> Bool {
        verify(leafHash: Merkle.leafHash(entry), root: root)
    }

    /// The verification algorithm of RFC 9162 §2.1.3.2, needing nothing but its arguments.
    public static func verify(
        leafIndex: UInt64,
        treeSize: UInt64,
        leafHash: Hash256,
        path: [Hash256],
        root: Hash256
    ) -> Bool {
        guard leafIndex < treeSize else { return false }
        var fn = leafIndex
        var sn = treeSize - 1
        var r = leafHash
        for p in path {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = Merkle.nodeHash(p, r)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                r = Merkle.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }
}

/// Proof that the tree of `firstSize` is a prefix of the tree of `secondSize` (RFC 9162 §2.1.4).
public struct ConsistencyProof: Hashable, Sendable {
    /// The older, smaller size.
    public var firstSize: UInt64
    /// The newer size.
    public var secondSize: UInt64
    /// The proof's hashes.
    public var path: [Hash256]

    /// Creates a proof from its parts.
    public init(firstSize: UInt64, secondSize: UInt64, path: [Hash256]) {
        self.firstSize = firstSize
        self.secondSize = secondSize
        self.path = path
    }

    /// True when `firstRoot` (size `firstSize`) and `secondRoot` (size `secondSize`) are
    /// roots of the same append-only log.
    public func verify(firstRoot: Hash256, secondRoot: Hash256) -> Bool {
        ConsistencyProof.verify(
            firstSize: firstSize,
            secondSize: secondSize,
            firstRoot: firstRoot,
            secondRoot: secondRoot,
            path: path
        )
    }

    /// The verification algorithm of RFC 9162 §2.1.4.2. Equal sizes need an empty proof
    /// and equal roots; size 0 is consistent with anything (empty proof, empty-tree root).
    public static func verify(
        firstSize: UInt64,
        secondSize: UInt64,
        firstRoot: Hash256,
        secondRoot: Hash256,
        path: [Hash256]
    ) -> Bool {
        guard firstSize <= secondSize else { return false }
        if firstSize == secondSize { return path.isEmpty && firstRoot == secondRoot }
        if firstSize == 0 { return path.isEmpty && firstRoot == Merkle.emptyRoot }
        guard !path.isEmpty else { return false }
        var proof = path
        if firstSize & (firstSize - 1) == 0 { proof.insert(firstRoot, at: 0) }
        var fn = firstSize - 1
        var sn = secondSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = proof[0]
        var sr = proof[0]
        for c in proof.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = Merkle.nodeHash(c, fr)
                sr = Merkle.nodeHash(c, sr)
                while fn & 1 == 0 && fn != 0 {
                    fn >>= 1
                    sn >>= 1
                }
            } else {
                sr = Merkle.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && fr == firstRoot && sr == secondRoot
    }
}

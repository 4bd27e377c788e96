/// A fixed-length key a `KeyedMerkleTrie` orders its leaves by: its bits, most significant
/// first, are those of its big-endian bytes, so the trie's leaf order is the byte order.
protocol TrieKey: Hashable, Sendable {
    /// Bit `index` (0 is the most significant bit of the first byte).
    func bit(_ index: Int) -> Bool
    /// The first bit where `self` and `other` differ; nil when they are equal.
    func firstDifferingBit(from other: Self) -> Int?
}

/// A set of keyed leaf hashes and its Merkle root, updated in O(depth) per change.
///
/// The shape is a binary trie over the keys' bits with one-child nodes left out (a crit-bit
/// tree), so it depends only on the set of keys, never on the order they came in: for one
/// leaf the root is its leaf hash; for more, it is `Merkle.nodeHash(left, right)` where
/// `left` and `right` are the roots of the keys whose first distinguishing bit is 0 and 1.
/// The empty set's root is `Merkle.emptyRoot`. Keys derived from hashes (key ids) give a
/// depth of about log₂ n; it is at most the key's bit length.
///
/// An insertion adds one inner node and one leaf and never moves another leaf, which an
/// RFC 6962 tree over the sorted leaves would (every later leaf shifts one place). Changes
/// only mark their path stale; `root()` rehashes the stale nodes once, so paths shared by
/// several changes are hashed once.
struct KeyedMerkleTrie<Key: TrieKey>: Sendable {
    private struct Node: Sendable {
        var key: Key  // leaves only; an inner node keeps the key it was created for
        var hash: Hash256
        /// -1 for a leaf.
        var left: Int32
        var right: Int32
        /// The inner node's distinguishing bit.
        var bit: Int32
        var stale: Bool
        var isLeaf: Bool { left < 0 }
    }

    private var nodes: [Node] = []
    private var free: [Int32] = []
    private var top: Int32 = -1
    /// Number of leaves.
    private(set) var count = 0

    init() {}

    /// Sets the leaf hash of `key`, adding the leaf if the key is new.
    mutating func set(_ key: Key, leafHash: Hash256) {
        guard top >= 0 else {
            top = allocate(Node(key: key, hash: leafHash, left: -1, right: -1, bit: 0, stale: false))
            count = 1
            return
        }
        let nearest = nodes[Int(leafNearest(key))].key
        guard let bit = key.firstDifferingBit(from: nearest) else {
            let leaf = descendMarkingStale(to: key)
            nodes[Int(leaf)].hash = leafHash
            return
        }
        let leaf = allocate(Node(key: key, hash: leafHash, left: -1, right: -1, bit: 0, stale: false))
        var parent: Int32 = -1
        var here = top
        while !nodes[Int(here)].isLeaf && nodes[Int(here)].bit < bit {
            nodes[Int(here)].stale = true
            parent = here
            here = key.bit(Int(nodes[Int(here)].bit)) ? nodes[Int(here)].right : nodes[Int(here)].left
        }
        let goesRight = key.bit(bit)
        let inner = allocate(
            Node(
                key: key,
                hash: .zero,
                left: goesRight ? here : leaf,
                right: goesRight ? leaf : here,
                bit: Int32(bit),
                stale: true
            )
        )
        relink(parent: parent, from: here, to: inner)
        count += 1
    }

    /// Removes the leaf of `key`; nothing when there is none.
    mutating func remove(_ key: Key) {
        guard top >= 0 else { return }
        guard nodes[Int(leafNearest(key))].key == key else { return }
        var grandparent: Int32 = -1
        var parent: Int32 = -1
        var here = top
        while !nodes[Int(here)].isLeaf {
            nodes[Int(here)].stale = true
            grandparent = parent
            parent = here
            here = key.bit(Int(nodes[Int(here)].bit)) ? nodes[Int(here)].right : nodes[Int(here)].left
        }
        release(here)
        count -= 1
        guard parent >= 0 else {
            top = -1
            return
        }
        let sibling = nodes[Int(parent)].left == here ? nodes[Int(parent)].right : nodes[Int(parent)].left
        release(parent)
        relink(parent: grandparent, from: parent, to: sibling)
    }

    /// The root hash, rehashing the nodes changes marked stale.
    mutating func root() -> Hash256 {
        guard top >= 0 else { return Merkle.emptyRoot }
        return refresh(top)
    }

    private mutating func refresh(_ index: Int32) -> Hash256 {
        let node = nodes[Int(index)]
        guard node.stale else { return node.hash }
        let hash = Merkle.nodeHash(refresh(node.left), refresh(node.right))
        nodes[Int(index)].hash = hash
        nodes[Int(index)].stale = false
        return hash
    }

    /// The leaf reached by following `key`'s bits: the key itself if present, otherwise the
    /// one sharing its longest prefix with it among the leaves under that path.
    private func leafNearest(_ key: Key) -> Int32 {
        var here = top
        while !nodes[Int(here)].isLeaf {
            here = key.bit(Int(nodes[Int(here)].bit)) ? nodes[Int(here)].right : nodes[Int(here)].left
        }
        return here
    }

    private mutating func descendMarkingStale(to key: Key) -> Int32 {
        var here = top
        while !nodes[Int(here)].isLeaf {
            nodes[Int(here)].stale = true
            here = key.bit(Int(nodes[Int(here)].bit)) ? nodes[Int(here)].right : nodes[Int(here)].left
        }
        return here
    }

    private mutating func relink(parent: Int32, from old: Int32, to new: Int32) {
        if parent < 0 {
            top = new
        } else if nodes[Int(parent)].left == old {
            nodes[Int(parent)].left = new
        } else {
            nodes[Int(parent)].right = new
        }
    }

    /// Reuses a freed slot first, so the arena stays at about twice the live leaves however
    /// many keys came and went.
    private mutating func allocate(_ node: Node) -> Int32 {
        if let slot = free.popLast() {
            nodes[Int(slot)] = node
            return slot
        }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    private mutating func release(_ index: Int32) {
        free.append(index)
    }
}

extension KeyID: TrieKey {
    func bit(_ index: Int) -> Bool {
        let word = index < 64 ? high : low
        return word >> (63 - UInt64(index & 63)) & 1 == 1
    }

    func firstDifferingBit(from other: KeyID) -> Int? {
        if high != other.high { return (high ^ other.high).leadingZeroBitCount }
        if low != other.low { return 64 + (low ^ other.low).leadingZeroBitCount }
        return nil
    }
}

extension RequestReference: TrieKey {
    /// Bits of `consumer ‖ sequence` (24 bytes, big-endian).
    func bit(_ index: Int) -> Bool {
        guard index >= 128 else { return consumer.bit(index) }
        return sequence >> (63 - UInt64(index - 128)) & 1 == 1
    }

    func firstDifferingBit(from other: RequestReference) -> Int? {
        if let bit = consumer.firstDifferingBit(from: other.consumer) { return bit }
        if sequence != other.sequence { return 128 + (sequence ^ other.sequence).leadingZeroBitCount }
        return nil
    }
}

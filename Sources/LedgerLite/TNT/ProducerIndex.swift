/// The ordered structure behind the TNT rule: a treap of producers keyed by (TNT, id),
/// each node also holding the largest available energy in its subtree.
///
/// "Lowest TNT among producers with available ≥ amount, ties to the lowest id" is the
/// leftmost node whose available energy covers the amount; the subtree maxima let a
/// search skip every subtree that cannot contain one, so a decision is O(depth) =
/// O(log n) expected. Priorities come from the producer id through a fixed mixing
/// function, so the shape (and everything else) is deterministic.
struct ProducerIndex: Sendable {
    struct Node: Sendable {
        var tnt: UInt64
        var id: KeyID
        var available: UInt64
        var maxAvailable: UInt64
        let priority: UInt64
        var left: Int32 = -1
        var right: Int32 = -1
        var linked = false
    }

    private(set) var nodes: [Node] = []
    private var root: Int32 = -1

    /// Creates a node (not yet linked into the tree) and returns its handle.
    mutating func makeNode(id: KeyID, tnt: UInt64, available: UInt64) -> Int32 {
        nodes.append(
            Node(
                tnt: tnt,
                id: id,
                available: available,
                maxAvailable: available,
                priority: Self.mix(id.high ^ Self.mix(id.low))
            )
        )
        return Int32(nodes.count - 1)
    }

    func node(_ handle: Int32) -> Node { nodes[Int(handle)] }

    /// The largest available energy of any linked producer (0 when there is none), O(1).
    var largestAvailable: UInt64 { root < 0 ? 0 : nodes[Int(root)].maxAvailable }

    /// Links a node into the tree at its (tnt, id) position.
    mutating func link(_ handle: Int32) {
        guard !nodes[Int(handle)].linked else { return }
        nodes[Int(handle)].left = -1
        nodes[Int(handle)].right = -1
        nodes[Int(handle)].maxAvailable = nodes[Int(handle)].available
        nodes[Int(handle)].linked = true
        root = insert(root, handle)
    }

    /// Removes a node from the tree (it keeps its data and can be linked again).
    mutating func unlink(_ handle: Int32) {
        guard nodes[Int(handle)].linked else { return }
        root = erase(root, handle)
        nodes[Int(handle)].linked = false
    }

    /// Changes a node's TNT and available energy, keeping the tree ordered.
    mutating func update(_ handle: Int32, tnt: UInt64, available: UInt64) {
        let wasLinked = nodes[Int(handle)].linked
        if wasLinked { unlink(handle) }
        nodes[Int(handle)].tnt = tnt
        nodes[Int(handle)].available = available
        nodes[Int(handle)].maxAvailable = available
        if wasLinked { link(handle) }
    }

    /// The leftmost linked node, in (TNT, id) order, whose available energy is ≥ `amount`.
    func leftmost(atLeast amount: UInt64) -> Int32? {
        var t = root
        guard t >= 0, nodes[Int(t)].maxAvailable >= amount else { return nil }
        while t >= 0 {
            let n = nodes[Int(t)]
            if n.left >= 0 && nodes[Int(n.left)].maxAvailable >= amount {
                t = n.left
            } else if n.available >= amount {
                return t
            } else {
                t = n.right
            }
        }
        return nil  // unreachable while subtree maxima are consistent
    }

    /// Linked nodes with available energy > 0, in (TNT, id) order, taken until their
    /// available energy adds up to `amount`; nil if `limit` nodes (or all of them) do not
    /// reach it. An in-order walk that skips every subtree whose maximum is 0 and stops as
    /// soon as the amount is covered: O(k · depth) for k nodes taken.
    func cover(_ amount: UInt64, limit: Int) -> [Int32]? {
        var taken: [Int32] = []
        var stack: [Int32] = []
        var remaining = amount
        var t = root
        while remaining > 0 && taken.count < limit {
            while t >= 0 && nodes[Int(t)].maxAvailable > 0 {
                stack.append(t)
                t = nodes[Int(t)].left
            }
            guard let n = stack.popLast() else { return nil }
            let node = nodes[Int(n)]
            if node.available > 0 {
                taken.append(n)
                remaining -= min(node.available, remaining)
            }
            t = node.right
        }
        return remaining == 0 ? taken : nil
    }

    // MARK: treap internals

    private static func less(_ a: Node, _ b: Node) -> Bool {
        a.tnt != b.tnt ? a.tnt < b.tnt : a.id < b.id
    }

    private mutating func pull(_ t: Int32) {
        var m = nodes[Int(t)].available
        let l = nodes[Int(t)].left
        let r = nodes[Int(t)].right
        if l >= 0 { m = max(m, nodes[Int(l)].maxAvailable) }
        if r >= 0 { m = max(m, nodes[Int(r)].maxAvailable) }
        nodes[Int(t)].maxAvailable = m
    }

    private mutating func insert(_ t: Int32, _ n: Int32) -> Int32 {
        if t < 0 { return n }
        if nodes[Int(n)].priority > nodes[Int(t)].priority {
            let (l, r) = split(t, n)
            nodes[Int(n)].left = l
            nodes[Int(n)].right = r
            pull(n)
            return n
        }
        if Self.less(nodes[Int(n)], nodes[Int(t)]) {
            nodes[Int(t)].left = insert(nodes[Int(t)].left, n)
        } else {
            nodes[Int(t)].right = insert(nodes[Int(t)].right, n)
        }
        pull(t)
        return t
    }

    /// Splits `t` into nodes ordered before `pivot` and nodes after it.
    private mutating func split(_ t: Int32, _ pivot: Int32) -> (Int32, Int32) {
        if t < 0 { return (-1, -1) }
        if Self.less(nodes[Int(t)], nodes[Int(pivot)]) {
            let (l, r) = split(nodes[Int(t)].right, pivot)
            nodes[Int(t)].right = l
            pull(t)
            return (t, r)
        } else {
            let (l, r) = split(nodes[Int(t)].left, pivot)
            nodes[Int(t)].left = r
            pull(t)
            return (l, t)
        }
    }

    private mutating func merge(_ a: Int32, _ b: Int32) -> Int32 {
        if a < 0 { return b }
        if b < 0 { return a }
        if nodes[Int(a)].priority > nodes[Int(b)].priority {
            nodes[Int(a)].right = merge(nodes[Int(a)].right, b)
            pull(a)
            return a
        } else {
            nodes[Int(b)].left = merge(a, nodes[Int(b)].left)
            pull(b)
            return b
        }
    }

    private mutating func erase(_ t: Int32, _ n: Int32) -> Int32 {
        if t < 0 { return -1 }
        if t == n {
            return merge(nodes[Int(t)].left, nodes[Int(t)].right)
        }
        if Self.less(nodes[Int(n)], nodes[Int(t)]) {
            nodes[Int(t)].left = erase(nodes[Int(t)].left, n)
        } else {
            nodes[Int(t)].right = erase(nodes[Int(t)].right, n)
        }
        pull(t)
        return t
    }

    /// SplitMix64's finaliser: a fixed, well-spread function of the id.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

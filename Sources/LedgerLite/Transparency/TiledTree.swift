/// A Merkle tree kept as C2SP tlog tiles: tile level `t` holds the hashes of the perfect
/// subtrees of 256^t leaves, 256 to a tile. Every hash is RFC 6962's (`Merkle`); the tiles
/// only say where the tree's hashes are kept, so a root or a proof of any size reads
/// O(log n) tiles, never the whole tree.
public enum TiledTree {
    /// The stored hashes of the tile at tile level `level`, index `index`: 256, or fewer for the
    /// rightmost tile of its level.
    public typealias TileReader = (_ level: Int, _ index: UInt64) throws -> [Hash256]

    /// Hashes at tile level `level` in a tree of `treeSize` leaves.
    public static func hashCount(level: Int, treeSize: UInt64) -> UInt64 {
        let shift = 8 * level
        return shift >= 64 ? 0 : treeSize >> UInt64(shift)
    }

    /// True when a tree of `treeSize` leaves has the tile (or entry bundle) at `path`: its
    /// last hash or entry is within the tree. Partial tiles narrower than the tree's own are
    /// prefixes of it and exist too.
    public static func contains(_ path: TilePath, treeSize: UInt64) -> Bool {
        let count: UInt64
        switch path.kind {
        case let .hashes(level): count = hashCount(level: level, treeSize: treeSize)
        case .entries: count = treeSize
        }
        guard path.index <= count / UInt64(TilePath.width) else { return false }
        let start = path.index * UInt64(TilePath.width)
        return count - start >= UInt64(path.width)
    }

    /// Roots and proofs of the tree of `size` leaves whose tiles `tile` reads.
    public static func tree(size: UInt64, tile: @escaping TileReader) -> StoredMerkleTree {
        StoredMerkleTree(size: size) { level, index in try perfectSubtree(level: level, index: index, tile: tile) }
    }

    /// The hash of the perfect subtree of 2^`level` leaves starting at leaf `index`·2^`level`:
    /// a hash of a tile when `level` is a multiple of 8, else rebuilt from 2^(`level` mod 8)
    /// consecutive hashes of one tile.
    static func perfectSubtree(level: Int, index: UInt64, tile: TileReader) throws -> Hash256 {
        let tileLevel = level / 8
        let span = level % 8
        let first = index << UInt64(span)
        let hashes = try tile(tileLevel, first / UInt64(TilePath.width))
        let offset = Int(first % UInt64(TilePath.width))
        let count = 1 << span
        guard offset + count <= hashes.count else {
            throw TiledTreeError.tileShort(level: tileLevel, index: first / UInt64(TilePath.width), held: hashes.count)
        }
        return count == 1 ? hashes[offset] : Merkle.root(leafHashes: Array(hashes[offset..<offset + count]))
    }
}

/// Appends leaves to a tree kept as tiles: loads the rightmost tile of each level it touches
/// once, and lists the tiles it changed, to be written back.
public struct TileAppender {
    /// Number of leaves.
    public private(set) var size: UInt64
    private let read: TiledTree.TileReader
    private var tiles: [TileKey: [Hash256]] = [:]
    private var changed: Set<TileKey> = []

    private struct TileKey: Hashable, Comparable {
        var level: Int
        var index: UInt64
        static func < (a: TileKey, b: TileKey) -> Bool { (a.level, a.index) < (b.level, b.index) }
    }

    /// Appends to the tree of `size` leaves whose tiles `read` returns.
    public init(size: UInt64, read: @escaping TiledTree.TileReader) {
        self.size = size
        self.read = read
    }

    /// Appends a leaf: it goes into its level-0 tile; a tile it fills is hashed into the tile
    /// above, and so on up.
    /// - Throws: `TiledTreeError.tileShort` when a stored tile does not hold the hashes the
    ///   size says it must; errors of the reader are passed on.
    public mutating func append(leafHash: Hash256) throws {
        var hash = leafHash
        var level = 0
        var position = size
        while true {
            let key = TileKey(level: level, index: position / UInt64(TilePath.width))
            let expected = Int(position % UInt64(TilePath.width))
            var hashes = try tile(key)
            guard hashes.count == expected else {
                throw TiledTreeError.tileShort(level: key.level, index: key.index, held: hashes.count)
            }
            hashes.append(hash)
            tiles[key] = hashes
            changed.insert(key)
            guard hashes.count == TilePath.width else { break }
            hash = Merkle.root(leafHashes: hashes)
            level += 1
            position = key.index
        }
        size += 1
    }

    private func tile(_ key: TileKey) throws -> [Hash256] {
        if let held = tiles[key] { return held }
        return try read(key.level, key.index)
    }

    /// The tiles appending changed, by level and index, with their hashes now.
    public var changedTiles: [(level: Int, index: UInt64, hashes: [Hash256])] {
        changed.sorted().map { ($0.level, $0.index, tiles[$0] ?? []) }
    }

    /// The root of the tree as it stands.
    public func root() throws -> Hash256 {
        let held = tiles
        let read = self.read
        return try TiledTree.tree(size: size) { level, index in
            try held[TileKey(level: level, index: index)] ?? read(level, index)
        }.root(treeSize: size)
    }
}

/// Why a tiled tree could not be read or extended.
public enum TiledTreeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The tile holds fewer (or other than the expected number of) hashes than the tree needs.
    case tileShort(level: Int, index: UInt64, held: Int)

    public var description: String {
        switch self {
        case let .tileShort(level, index, held):
            return
                "tile \(level)/\(index) holds \(held) hashes, not the number the tree's size needs (the store was edited or damaged)"
        }
    }
}

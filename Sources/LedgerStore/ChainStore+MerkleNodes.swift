import Foundation
import GRDB
import LedgerLite

/// The Merkle tree's upper nodes, kept in the store so that proofs are read, not rebuilt.
///
/// Table `merkle_node` holds the hash of every perfect, aligned subtree of at least
/// 2^`ChainStore.nodeLevel` (1,024) leaves of the stored entries, written in the transaction
/// that appends the block completing it. A subtree below that size is hashed from its
/// entries (at most 1,024 leaf hashes), so an inclusion or consistency proof reads O(log n)
/// rows and at most two chunks of entries, on whichever connection asks: a gateway's
/// reader threads, `inspect`, never the chain writer, and never the whole chain.
extension ChainStore {
    /// The smallest level kept in `merkle_node` (`MerkleTree.chunkLevel`: what a pruned tree
    /// also forgets below).
    public static let nodeLevel = MerkleTree.chunkLevel

    /// Creates the table and fills it for the entries already stored (a store written before
    /// it existed: once, at the cost of hashing every entry).
    static func createMerkleNodes(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE merkle_node (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL,
                    PRIMARY KEY (level, idx)
                ) WITHOUT ROWID
                """
        )
        let stored = try tip(db)?.treeSize ?? 0
        try storeMerkleNodes(db, from: 0, to: stored)
    }

    /// Writes the nodes that entries `from..<to` complete: each chunk of `2^nodeLevel` leaves
    /// that ends in the range, and every parent that chunk completes above it.
    static func storeMerkleNodes(_ db: Database, from first: UInt64, to end: UInt64) throws {
        let chunk = UInt64(1) << UInt64(nodeLevel)
        guard end / chunk > first / chunk else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)")
        for number in (first / chunk)..<(end / chunk) {
            let leaves = try leafHashes(db, in: number * chunk..<(number + 1) * chunk)
            guard leaves.count == Int(chunk) else {
                throw ChainStoreError.missingMerkleNode(level: nodeLevel, index: number)
            }
            var level = nodeLevel
            var index = number
            var hash = Merkle.root(leafHashes: leaves)
            try insert.execute(arguments: [level, Int64(bitPattern: index), Data(hash.bytes)])
            while index & 1 == 1 {
                let left = try storedNode(db, level: level, index: index - 1)
                hash = Merkle.nodeHash(left, hash)
                level += 1
                index >>= 1
                try insert.execute(arguments: [level, Int64(bitPattern: index), Data(hash.bytes)])
            }
        }
    }

    private static func storedNode(_ db: Database, level: Int, index: UInt64) throws -> Hash256 {
        let data = try Data.fetchOne(
            db,
            sql: "SELECT hash FROM merkle_node WHERE level = ? AND idx = ?",
            arguments: [level, Int64(bitPattern: index)]
        )
        guard let data, let hash = Hash256(bytes: data) else {
            throw ChainStoreError.missingMerkleNode(level: level, index: index)
        }
        return hash
    }

    static func leafHashes(_ db: Database, in range: Range<UInt64>) throws -> [Hash256] {
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT bytes FROM entry WHERE idx >= ? AND idx < ? ORDER BY idx",
            arguments: [Int64(bitPattern: range.lowerBound), Int64(bitPattern: range.upperBound)]
        )
        var hashes: [Hash256] = []
        hashes.reserveCapacity(range.count)
        while let row = try rows.next() {
            let bytes: Data = row[0]
            hashes.append(Merkle.leafHash([UInt8](bytes)))
        }
        return hashes
    }

    /// The stored tree (every sealed entry) read through `db`; below `nodeLevel` its
    /// subtrees are hashed from the entries, each chunk read once.
    static func storedTree(_ db: Database) throws -> StoredMerkleTree {
        let size = try tip(db)?.treeSize ?? 0
        let chunk = UInt64(1) << UInt64(nodeLevel)
        var chunks: [UInt64: [Hash256]] = [:]
        return StoredMerkleTree(size: size) { level, index in
            if level >= nodeLevel { return try storedNode(db, level: level, index: index) }
            let start = index << UInt64(level)
            let number = start / chunk
            if chunks[number] == nil {
                chunks[number] = try leafHashes(db, in: number * chunk..<min(size, (number + 1) * chunk))
            }
            let leaves = chunks[number]!
            let offset = Int(start - number * chunk)
            let count = 1 << level
            guard offset + count <= leaves.count else {
                throw ChainStoreError.missingMerkleNode(level: level, index: index)
            }
            return Merkle.root(leafHashes: Array(leaves[offset..<offset + count]))
        }
    }

    /// The inclusion proof of entry `index` in the tree of the first `treeSize` stored
    /// entries (a block header's tree size), read from the store alone.
    public func inclusionProof(index: UInt64, treeSize: UInt64) throws -> InclusionProof {
        try reader.read { db in try Self.storedTree(db).inclusionProof(index: index, treeSize: treeSize) }
    }

    /// The consistency proof between two sizes of the stored tree, read from the store alone.
    public func consistencyProof(from first: UInt64, to second: UInt64) throws -> ConsistencyProof {
        try reader.read { db in try Self.storedTree(db).consistencyProof(from: first, to: second) }
    }
}

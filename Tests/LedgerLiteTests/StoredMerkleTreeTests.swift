import Foundation
import GRDB
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

@Suite("Merkle proofs read from stored nodes")
struct StoredMerkleTreeTests {
    static func leaves(_ count: Int) -> [Hash256] {
        (0..<count).map { Merkle.leafHash(Array("entry \($0)".utf8)) }
    }

    @Test("a tree read through perfect subtrees gives MerkleTree's roots and proofs, for every size up to 70")
    func matchesTheInMemoryTree() throws {
        let all = Self.leaves(70)
        var tree = MerkleTree()
        for leaf in all { tree.append(leafHash: leaf) }
        let stored = StoredMerkleTree(size: 70) { level, index in
            let start = Int(index) << level
            return Merkle.root(leafHashes: Array(all[start..<start + (1 << level)]))
        }
        for size in UInt64(1)...70 {
            #expect(try stored.root(treeSize: size) == tree.root(treeSize: size))
            for index in 0..<size {
                #expect(
                    try stored.inclusionProof(index: index, treeSize: size)
                        == tree.inclusionProof(index: index, treeSize: size)
                )
            }
            for first in 0...size {
                #expect(
                    try stored.consistencyProof(from: first, to: size) == tree.consistencyProof(from: first, to: size)
                )
            }
        }
        #expect(throws: MerkleError.self) { try stored.inclusionProof(index: 3, treeSize: 71) }
        #expect(throws: MerkleError.self) { try stored.inclusionProof(index: 9, treeSize: 9) }
    }

    /// `entries` readings over blocks of irregular sizes, so chunks of 1,024 end inside blocks.
    static func chain(entries: Int) throws -> ChainFixture {
        var f = ChainFixture(maxEntries: 677, consumers: 2, producers: 0)
        try f.enrollAll()
        while f.builder.tree.size < UInt64(entries) {
            try f.reading(f.consumers[Int(f.builder.tree.size) % 2])
        }
        try f.finish()
        return f
    }

    @Test("the store keeps the nodes of every 1,024 entries and answers every proof as the chain's own tree does")
    func storeProofsMatchTheChain() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f = try Self.chain(entries: 3_300)
        let store = try ChainStore(path: dir.file("chain.sqlite"))
        try f.write(to: store)
        var tree = MerkleTree()
        for block in f.blocks { for entry in block.entries { tree.append(entry: entry.bytes) } }
        let size = tree.size
        #expect(size >= 3_300)
        // Three chunks complete: level 10 at 0, 1, 2, level 11 at 0.
        let rows = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM merkle_node") }
        #expect(rows == 4)
        for block in f.blocks {
            let treeSize = block.header.header.treeSize
            for index in [0, treeSize / 3, treeSize - 1] {
                let proof = try store.inclusionProof(index: index, treeSize: treeSize)
                #expect(proof == (try tree.inclusionProof(index: index, treeSize: treeSize)))
                #expect(proof.verify(leafHash: try tree.leafHash(at: index), root: block.header.header.merkleRoot))
            }
            #expect(
                try store.consistencyProof(from: treeSize, to: size) == tree.consistencyProof(from: treeSize, to: size)
            )
        }
        #expect(throws: MerkleError.self) { try store.inclusionProof(index: 0, treeSize: size + 1) }
    }

    @Test("a store written before the nodes were kept gets them once, at its next opening")
    func olderStoresAreFilledIn() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f = try Self.chain(entries: 2_100)
        var store: ChainStore? = try ChainStore(path: dir.file("chain.sqlite"))
        try f.write(to: store!)
        let expected = try store!.inclusionProof(index: 5, treeSize: f.blocks.last!.header.header.treeSize)
        // Undo the migration, as a store from before it looks.
        try store!.pool.write { db in
            try db.execute(sql: "DROP TABLE merkle_node")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'merkle-nodes-v1'")
        }
        store = nil
        let reopened = try ChainStore(path: dir.file("chain.sqlite"))
        #expect(try reopened.inclusionProof(index: 5, treeSize: f.blocks.last!.header.header.treeSize) == expected)
    }
}

import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite

@Suite struct MerkleTests {
    /// Certificate Transparency's RFC 6962 reference leaves and roots (sizes 1…8).
    static let ctLeaves = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ]
    .map { decodeHex($0) ?? [] }
    static let ctRoots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static func ctTree() -> MerkleTree {
        var tree = MerkleTree()
        for leaf in ctLeaves { tree.append(entry: leaf) }
        return tree
    }

    static func hashes(_ hex: [String]) -> [Hash256] { hex.compactMap(Hash256.init(hex:)) }

    // A direct transcription of RFC 6962 §2.1 (MTH, PATH, SUBPROOF) as an independent reference.
    static func k(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }
    static func mth(_ d: ArraySlice<Hash256>) -> Hash256 {
        if d.isEmpty { return Merkle.emptyRoot }
        if d.count == 1 { return d[d.startIndex] }
        let s = d.startIndex
        let k = k(d.count)
        return Merkle.nodeHash(mth(d[s..<s + k]), mth(d[(s + k)...]))
    }
    static func path(_ m: Int, _ d: ArraySlice<Hash256>) -> [Hash256] {
        if d.count <= 1 { return [] }
        let s = d.startIndex
        let k = k(d.count)
        return m < k ? path(m, d[s..<s + k]) + [mth(d[(s + k)...])] : path(m - k, d[(s + k)...]) + [mth(d[s..<s + k])]
    }
    static func subproof(_ m: Int, _ d: ArraySlice<Hash256>, _ b: Bool) -> [Hash256] {
        if m == d.count { return b ? [] : [mth(d)] }
        let s = d.startIndex
        let k = k(d.count)
        return m <= k
            ? subproof(m, d[s..<s + k], b) + [mth(d[(s + k)...])]
            : subproof(m - k, d[(s + k)...], false) + [mth(d[s..<s + k])]
    }

    @Test func emptyTreeRootIsSHA256OfNothing() {
        #expect(MerkleTree().root.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func certificateTransparencyRoots() throws {
        let tree = Self.ctTree()
        for (i, root) in Self.ctRoots.enumerated() {
            #expect(try tree.root(treeSize: UInt64(i + 1)).hex == root, "size \(i + 1)")
        }
        var leaves: [Hash256] = []
        for leaf in Self.ctLeaves { leaves.append(Merkle.leafHash(leaf)) }
        #expect(Merkle.root(leafHashes: leaves).hex == Self.ctRoots[7])
    }

    @Test func certificateTransparencyProofs() throws {
        let tree = Self.ctTree()
        let root8 = try #require(Hash256(hex: Self.ctRoots[7]))
        let p0 = try tree.inclusionProof(index: 0, treeSize: 8)
        #expect(
            p0.path
                == Self.hashes([
                    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
                ])
        )
        #expect(p0.verify(entry: Self.ctLeaves[0], root: root8))
        let p5 = try tree.inclusionProof(index: 5, treeSize: 8)
        #expect(
            p5.path
                == Self.hashes([
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ])
        )
        #expect(p5.verify(entry: Self.ctLeaves[5], root: root8))

        let c37 = try tree.consistencyProof(from: 3, to: 7)
        #expect(
            c37.path
                == Self.hashes([
                    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                    "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
                ])
        )
        let root3 = try #require(Hash256(hex: Self.ctRoots[2]))
        let root7 = try #require(Hash256(hex: Self.ctRoots[6]))
        #expect(c37.verify(firstRoot: root3, secondRoot: root7))
        let c68 = try tree.consistencyProof(from: 6, to: 8)
        #expect(
            c68.path
                == Self.hashes([
                    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                ])
        )
        #expect(c68.verify(firstRoot: try #require(Hash256(hex: Self.ctRoots[5])), secondRoot: root8))
    }

    /// Every size up to 40: roots, every inclusion proof and every consistency proof match
    /// the RFC transcription, verify, and fail when anything is changed.
    @Test func exhaustiveSmallTrees() throws {
        let maxSize = 40
        var tree = MerkleTree()
        var leaves: [Hash256] = []
        for i in 0..<maxSize {
            let entry: [UInt8] = [UInt8(i), UInt8(i * 7 & 0xff), 0xab]
            tree.append(entry: entry)
            leaves.append(Merkle.leafHash(entry))
        }
        let roots = (0...maxSize).map { Self.mth(leaves[0..<$0]) }
        let bogus = Hash256.sha256([UInt8]([1, 2, 3]))
        for n in 1...maxSize {
            let size = UInt64(n)
            #expect(try tree.root(treeSize: size) == roots[n])
            #expect(Merkle.root(leafHashes: Array(leaves[0..<n])) == roots[n])
            for m in 0..<n {
                let proof = try tree.inclusionProof(index: UInt64(m), treeSize: size)
                #expect(proof.path == Self.path(m, leaves[0..<n]))
                #expect(proof.verify(leafHash: leaves[m], root: roots[n]))
                #expect(!proof.verify(leafHash: bogus, root: roots[n]))
                #expect(!proof.verify(leafHash: leaves[m], root: bogus))
                if n > 1 {
                    let other = (m + 1) % n
                    #expect(
                        !InclusionProof.verify(
                            leafIndex: UInt64(other),
                            treeSize: size,
                            leafHash: leaves[m],
                            path: proof.path,
                            root: roots[n]
                        )
                    )
                    var broken = proof.path
                    broken[m % broken.count] = bogus
                    #expect(
                        !InclusionProof.verify(
                            leafIndex: UInt64(m),
                            treeSize: size,
                            leafHash: leaves[m],
                            path: broken,
                            root: roots[n]
                        )
                    )
                    #expect(
                        !InclusionProof.verify(
                            leafIndex: UInt64(m),
                            treeSize: size,
                            leafHash: leaves[m],
                            path: proof.path + [bogus],
                            root: roots[n]
                        )
                    )
                }
            }
            for m in 1..<n {
                let proof = try tree.consistencyProof(from: UInt64(m), to: size)
                #expect(proof.path == Self.subproof(m, leaves[0..<n], true))
                #expect(proof.verify(firstRoot: roots[m], secondRoot: roots[n]))
                #expect(!proof.verify(firstRoot: bogus, secondRoot: roots[n]))
                #expect(!proof.verify(firstRoot: roots[m], secondRoot: bogus))
                #expect(!proof.verify(firstRoot: roots[n], secondRoot: roots[m]))
                for i in proof.path.indices {
                    var broken = proof.path
                    broken[i] = bogus
                    #expect(
                        !ConsistencyProof.verify(
                            firstSize: UInt64(m),
                            secondSize: size,
                            firstRoot: roots[m],
                            secondRoot: roots[n],
                            path: broken
                        )
                    )
                }
                #expect(
                    !ConsistencyProof.verify(
                        firstSize: UInt64(m),
                        secondSize: size,
                        firstRoot: roots[m],
                        secondRoot: roots[n],
                        path: []
                    )
                )
            }
            // Equal sizes and the empty tree.
            let same = try tree.consistencyProof(from: size, to: size)
            #expect(same.path.isEmpty && same.verify(firstRoot: roots[n], secondRoot: roots[n]))
            let fromEmpty = try tree.consistencyProof(from: 0, to: size)
            #expect(fromEmpty.verify(firstRoot: Merkle.emptyRoot, secondRoot: roots[n]))
        }
    }

    @Test func rangeErrors() {
        let tree = Self.ctTree()
        #expect(throws: MerkleError.indexOutOfRange(index: 8, treeSize: 8)) {
            try tree.inclusionProof(index: 8, treeSize: 8)
        }
        #expect(throws: MerkleError.sizeBeyondTree(requested: 9, treeSize: 8)) { try tree.root(treeSize: 9) }
        #expect(throws: MerkleError.invalidSizes(first: 5, second: 4)) { try tree.consistencyProof(from: 5, to: 4) }
        #expect(!InclusionProof.verify(leafIndex: 0, treeSize: 0, leafHash: .zero, path: [], root: .zero))
    }

    /// A larger tree built incrementally agrees with the from-scratch root at many sizes.
    @Test func incrementalRootsMatchFromScratch() throws {
        var rng = SplitMix64(seed: 77)
        var tree = MerkleTree()
        var leaves: [Hash256] = []
        for _ in 0..<1500 {
            let h = rng.hash()
            tree.append(leafHash: h)
            leaves.append(h)
        }
        for size in [1, 2, 3, 511, 512, 513, 1023, 1024, 1025, 1499, 1500] {
            #expect(try tree.root(treeSize: UInt64(size)) == Merkle.root(leafHashes: Array(leaves[0..<size])))
        }
        let proof = try tree.inclusionProof(index: 1234, treeSize: 1500)
        #expect(proof.verify(leafHash: leaves[1234], root: tree.root))
        let consistency = try tree.consistencyProof(from: 700, to: 1500)
        #expect(consistency.verify(firstRoot: try tree.root(treeSize: 700), secondRoot: tree.root))
    }
}

@Suite struct PrunedMerkleTreeTests {
    /// A pruned tree gives the same roots and proofs as a full one, reading finished
    /// chunks back through the leaf source, and keeps only the unfinished chunk's leaves.
    @Test func prunedTreeMatchesFullTree() throws {
        let count = Int(MerkleTree.chunkSize) * 3 + 77
        let leaves = (0..<count).map { Merkle.leafHash(Array("entry \($0)".utf8)) }
        var full = MerkleTree()
        var pruned = MerkleTree(retainingLeaves: false)
        for leaf in leaves {
            full.append(leafHash: leaf)
            pruned.append(leafHash: leaf)
            #expect(pruned.root == full.root)
        }
        var loads = 0
        let source: MerkleTree.LeafSource = { range in
            loads += 1
            return Array(leaves[Int(range.lowerBound)..<Int(range.upperBound)])
        }
        for (index, size) in [
            (0, count), (5, 1024), (1023, 2048), (2500, 3000), (count - 1, count), (1500, count - 10),
        ] {
            let expected = try full.inclusionProof(index: UInt64(index), treeSize: UInt64(size))
            #expect(try pruned.inclusionProof(index: UInt64(index), treeSize: UInt64(size), leaves: source) == expected)
        }
        #expect(loads <= 12, "at most two chunks a proof")
        for (first, second) in [(1000, 3100), (1024, 2048), (3, count)] {
            let expected = try full.consistencyProof(from: UInt64(first), to: UInt64(second))
            #expect(try pruned.consistencyProof(from: UInt64(first), to: UInt64(second), leaves: source) == expected)
        }
        // Within the unfinished chunk no source is needed; before it, one is.
        #expect(try pruned.leafHash(at: UInt64(count - 1)) == leaves[count - 1])
        #expect(throws: MerkleError.leavesNotRetained(4)) {
            try pruned.inclusionProof(index: 5, treeSize: UInt64(count))
        }  // leaf 5's sibling
    }

    /// Leaf hashes read back that differ from what the tree was built from are refused.
    @Test func prunedTreeRefusesAlteredLeaves() throws {
        var pruned = MerkleTree(retainingLeaves: false)
        for i in 0..<Int(MerkleTree.chunkSize) * 2 { pruned.append(leafHash: Merkle.leafHash(Array("e\(i)".utf8))) }
        let altered: MerkleTree.LeafSource = { range in range.map { Merkle.leafHash(Array("x\($0)".utf8)) } }
        #expect(throws: MerkleError.leafSourceMismatch(range: 0..<MerkleTree.chunkSize)) {
            try pruned.inclusionProof(index: 3, treeSize: 2048, leaves: altered)
        }
        let short: MerkleTree.LeafSource = { _ in [] }
        #expect(throws: MerkleError.leafSourceShort(range: 0..<MerkleTree.chunkSize, returned: 0)) {
            try pruned.inclusionProof(index: 3, treeSize: 2048, leaves: short)
        }
    }
}

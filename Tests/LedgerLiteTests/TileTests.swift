import Testing

@testable import LedgerLite

/// C2SP tlog-tiles: paths, the tiles a tree has, tiles built by appending, entry bundles.
@Suite struct TileTests {
    @Test func theSpecsIndexExampleIsWrittenInThreeDigitElements() throws {
        let tile = try TilePath(.hashes(level: 0), index: 1_234_067)
        #expect(tile.path == "tile/0/x001/x234/067")
        #expect(try TilePath(parsingAfterTilePrefix: "0/x001/x234/067") == tile)
    }

    @Test(arguments: [
        (TilePath.Kind.hashes(level: 0), UInt64(0), 256, "tile/0/000"),
        (.hashes(level: 1), 1, 17, "tile/1/001.p/17"),
        (.hashes(level: 63), 999, 256, "tile/63/999"),
        (.hashes(level: 2), 1000, 1, "tile/2/x001/000.p/1"),
        (.entries, 273, 112, "tile/entries/273.p/112"),
        (.entries, UInt64.max, 256, "tile/entries/x018/x446/x744/x073/x709/x551/615"),
    ])
    func pathsAreWrittenAndReadBack(_ kind: TilePath.Kind, _ index: UInt64, _ width: Int, _ path: String) throws {
        let tile = try TilePath(kind, index: index, width: width)
        #expect(tile.path == path)
        #expect(try TilePath(parsingAfterTilePrefix: path.dropFirst(5)) == tile)
    }

    @Test(arguments: [
        "", "0", "0/", "00/000", "64/000", "-1/000", "1e1/000", "0/0", "0/0000", "0/x000/001", "0/001/002",
        "0/x001", "0/y001/002", "0/000.p/0", "0/000.p/256", "0/000.p/08", "0/000.p/", "0/000.p", "0/000/p/5",
        "0/x018/x446/x744/x073/x709/x551/616", "0/x001/x001/x001/x001/x001/x001/x001/001",
        "99999999999999999999999/000", "0/000.p/99999999999999999999999", "entries/", "entry/000", "0/abc",
        "0/x0a1/000", "0/ 01", "0/+01",
    ])
    func hostilePathsAreRefused(_ text: String) {
        #expect(throws: TilePathError.self) { try TilePath(parsingAfterTilePrefix: Substring(text)) }
    }

    /// The spec's example: a tree of 70,000 entries has 273 full level-0 tiles, a partial one
    /// of 112, one full level-1 tile, a partial one of 17, and a partial level-2 tile of 1.
    @Test func theSpecsTreeOf70000HasTheTilesItLists() throws {
        let size: UInt64 = 70_000
        func has(_ level: Int, _ index: UInt64, _ width: Int = 256) throws -> Bool {
            TiledTree.contains(try TilePath(.hashes(level: level), index: index, width: width), treeSize: size)
        }
        #expect(try has(0, 272))
        #expect(try !has(0, 273))
        #expect(try has(0, 273, 112))
        #expect(try !has(0, 273, 113))
        #expect(try has(1, 0))
        #expect(try has(1, 1, 17))
        #expect(try !has(1, 1, 18))
        #expect(try has(2, 0, 1))
        #expect(try !has(2, 0, 2))
        #expect(try !has(3, 0, 1))
        #expect(try !has(0, UInt64.max))
        #expect(try !has(63, UInt64.max, 255))
        // A tree of 256 has one full level-0 tile and a level-1 tile of width 1.
        #expect(TiledTree.contains(try TilePath(.hashes(level: 1), index: 0, width: 1), treeSize: 256))
        #expect(TiledTree.contains(try TilePath(.hashes(level: 0), index: 0), treeSize: 256))
    }

    /// Leaves appended to tiles give every root RFC 6962 gives, and the tiles hold the hashes
    /// the spec defines: level-1 hashes are the roots of full level-0 tiles.
    @Test func tilesBuiltByAppendingGiveTheRootsOfTheInMemoryTree() throws {
        var stored: [String: [Hash256]] = [:]
        func read(_ level: Int, _ index: UInt64) -> [Hash256] { stored["\(level)/\(index)"] ?? [] }
        var reference = MerkleTree()
        var appender = TileAppender(size: 0, read: read)
        var leaves: [Hash256] = []
        for i in 0..<(256 * 3 + 17) {
            let leaf = Merkle.leafHash(Array("entry \(i)".utf8))
            leaves.append(leaf)
            reference.append(leafHash: leaf)
            try appender.append(leafHash: leaf)
            if i % 97 == 0 || i == 255 || i == 256 || i == 511 {
                // Written back now and then, as a store would after a batch.
                for tile in appender.changedTiles { stored["\(tile.level)/\(tile.index)"] = tile.hashes }
                appender = TileAppender(size: UInt64(i + 1), read: read)
                #expect(
                    try TiledTree.tree(size: UInt64(i + 1), tile: read).root(treeSize: UInt64(i + 1)) == reference.root
                )
            }
            #expect(try appender.root() == reference.root)
        }
        for tile in appender.changedTiles { stored["\(tile.level)/\(tile.index)"] = tile.hashes }
        #expect(stored["0/0"] == Array(leaves[0..<256]))
        #expect(stored["0/3"]?.count == 17)
        #expect(stored["1/0"] == [0, 1, 2].map { Merkle.root(leafHashes: Array(leaves[$0 * 256..<($0 + 1) * 256])) })
        let tree = TiledTree.tree(size: UInt64(leaves.count), tile: read)
        // What a witness checks between two checkpoints: consistency, from the tiles alone.
        for first in [1, 17, 255, 256, 257, 600] {
            let proof = try tree.consistencyProof(from: UInt64(first), to: UInt64(leaves.count))
            #expect(proof == (try reference.consistencyProof(from: UInt64(first), to: UInt64(leaves.count))))
            #expect(proof.verify(firstRoot: try reference.root(treeSize: UInt64(first)), secondRoot: reference.root))
        }
        for index in [0, 1, 255, 256, 700, leaves.count - 1] {
            let proof = try tree.inclusionProof(index: UInt64(index), treeSize: UInt64(leaves.count))
            #expect(proof.verify(leafHash: leaves[index], root: reference.root))
            #expect(proof == (try reference.inclusionProof(index: UInt64(index), treeSize: UInt64(leaves.count))))
        }
    }

    @Test func aStoredTileShorterThanTheSizeSaysIsReportedNotTrusted() throws {
        var appender = TileAppender(size: 5) { _, _ in [Merkle.emptyRoot] }
        #expect(throws: TiledTreeError.self) { try appender.append(leafHash: Merkle.emptyRoot) }
    }

    @Test func entryBundlesPrefixEachEntryWithItsBigEndianLength() throws {
        let entries: [[UInt8]] = [[], [1, 2, 3], Array(repeating: 7, count: 300)]
        let bundle = try EntryBundle.encode(entries)
        #expect(Array(bundle[0..<2]) == [0, 0])
        #expect(Array(bundle[2..<7]) == [0, 3, 1, 2, 3])
        #expect(Array(bundle[7..<9]) == [0x01, 0x2C])
        #expect(try EntryBundle.decode(bundle) == entries)
        #expect(throws: EntryBundleError.truncated(index: 2)) { try EntryBundle.decode(Array(bundle.dropLast())) }
        #expect(throws: EntryBundleError.self) { try EntryBundle.encode([Array(repeating: 0, count: 65_536)]) }
    }
}

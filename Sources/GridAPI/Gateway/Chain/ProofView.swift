import LedgerLite

package struct ProofView: Codable, Sendable {
    package var leafIndex: UInt64
    package var treeSize: UInt64
    /// Sibling hashes from the leaf upwards, hex.
    package var path: [String]

    package init(_ p: InclusionProof) {
        leafIndex = p.leafIndex
        treeSize = p.treeSize
        path = p.path.map(\.hex)
    }

    package var proof: InclusionProof? {
        let hashes = path.compactMap(Hash256.init(hex:))
        guard hashes.count == path.count else { return nil }
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, path: hashes)
    }
}

import LedgerLite

/// The checks every checkpoint passes before the gateway keeps it (and `verify-receipt`
/// runs offline): signed by the root key, and naming exactly our block.
package enum CheckpointCheck {
    /// Throws the first mismatch between `signed` and the block `header` (of `gateway`).
    package static func verify(
        _ signed: SignedCheckpoint,
        root: PublicIdentity,
        header: SignedBlockHeader
    ) throws(CheckpointRefusal) {
        let c = signed.checkpoint
        let h = header.header
        guard c.issuer == root.id else {
            throw CheckpointRefusal(
                "the checkpoint of block \(c.height) names issuer \(c.issuer.hex), not the super node root key \(root.id.hex)"
            )
        }
        guard signed.isSignatureValid(by: root) else {
            throw CheckpointRefusal(
                "the checkpoint of block \(c.height) does not verify under the super node root key \(root.id.hex) (bad signature)"
            )
        }
        guard c.gateway == h.gateway else {
            throw CheckpointRefusal(
                "the checkpoint names gateway \(c.gateway.hex), but block \(h.height) is gateway \(h.gateway.hex)'s"
            )
        }
        guard c.height == h.height else {
            throw CheckpointRefusal("the checkpoint is for block \(c.height), not block \(h.height)")
        }
        guard c.blockHash == header.hash else {
            throw CheckpointRefusal(
                "the checkpoint of block \(c.height) names block hash \(c.blockHash.hex), but the block's hash is \(header.hash.hex)"
            )
        }
        guard c.merkleRoot == h.merkleRoot else {
            throw CheckpointRefusal(
                "the checkpoint of block \(c.height) names merkle root \(c.merkleRoot.hex), but the block's is \(h.merkleRoot.hex)"
            )
        }
        guard c.treeSize == h.treeSize else {
            throw CheckpointRefusal(
                "the checkpoint of block \(c.height) names tree size \(c.treeSize), but the block's is \(h.treeSize)"
            )
        }
    }
}

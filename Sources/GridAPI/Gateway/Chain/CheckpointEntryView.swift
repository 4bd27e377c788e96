import Foundation
import LedgerLite

/// A stored checkpoint (receipts, `inspect checkpoints`); `checkpoint` carries the signed bytes.
package struct CheckpointEntryView: Codable, Sendable {
    package var gateway: String
    package var height: UInt64
    package var blockHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var certificateSerial: UInt64
    /// Id of the root key that signed it.
    package var issuer: String
    /// When the super node accepted the block, ms UTC, and as ISO 8601.
    package var checkpointedAt: Int64
    package var checkpointedTime: String
    /// The signed checkpoint (194 bytes), base64.
    package var checkpoint: String

    package init(_ signed: SignedCheckpoint) {
        let c = signed.checkpoint
        gateway = c.gateway.hex
        height = c.height
        blockHash = c.blockHash.hex
        merkleRoot = c.merkleRoot.hex
        treeSize = c.treeSize
        certificateSerial = c.certificateSerial
        issuer = c.issuer.hex
        checkpointedAt = c.checkpointedAt
        checkpointedTime = isoTime(c.checkpointedAt)
        checkpoint = Data(signed.bytes).base64EncodedString()
    }
}

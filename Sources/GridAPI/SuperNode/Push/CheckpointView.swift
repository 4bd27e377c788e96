import Foundation
import LedgerLite

/// A checkpoint as JSON; `checkpoint` carries the signed bytes.
package struct CheckpointView: Codable, Sendable, Equatable {
    package var gateway: String
    package var height: UInt64
    package var blockHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var certificateSerial: UInt64
    package var checkpointedAt: Int64
    /// The signed checkpoint (194 bytes), base64.
    package var checkpoint: String
    /// True when the block had been accepted before (the stored checkpoint is returned).
    package var replayed: Bool?

    package init(_ signed: SignedCheckpoint, replayed: Bool? = nil) {
        let c = signed.checkpoint
        gateway = c.gateway.hex
        height = c.height
        blockHash = c.blockHash.hex
        merkleRoot = c.merkleRoot.hex
        treeSize = c.treeSize
        certificateSerial = c.certificateSerial
        checkpointedAt = c.checkpointedAt
        checkpoint = Data(signed.bytes).base64EncodedString()
        self.replayed = replayed
    }
}

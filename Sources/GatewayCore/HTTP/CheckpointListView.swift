import Foundation
import GridAPI
import LedgerLite
import OperatorKit

/// `inspect checkpoints --json`.
package struct CheckpointListView: Codable, Sendable {
    package var checkpoints: [CheckpointEntryView]
    /// Highest checkpointed height; absent before the first checkpoint.
    package var lastCheckpointedHeight: UInt64?
    /// Height of the latest sealed block; absent for an empty chain.
    package var sealedHeight: UInt64?
    /// Sealed blocks above the last checkpointed height.
    package var unacknowledgedBlocks: UInt64
    /// `from` for the next page; absent at the end.
    package var next: UInt64?

    package init(
        checkpoints: [CheckpointEntryView],
        lastCheckpointedHeight: UInt64? = nil,
        sealedHeight: UInt64? = nil,
        unacknowledgedBlocks: UInt64,
        next: UInt64? = nil
    ) {
        self.checkpoints = checkpoints
        self.lastCheckpointedHeight = lastCheckpointedHeight
        self.sealedHeight = sealedHeight
        self.unacknowledgedBlocks = unacknowledgedBlocks
        self.next = next
    }
}

import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import OperatorKit

extension InspectCommand {
    /// `inspect checkpoints`: the stored checkpoints, newest `--limit` by default.
    func showCheckpoints(_ chain: ReadOnlyChain) throws {
        let tip = try chain.store.tip()?.height
        let last = try chain.checkpoints?.lastHeight()
        let limit = max(1, min(self.limit, 10_000))
        let start = fromIndex ?? last.map { $0 >= UInt64(limit) ? $0 - UInt64(limit) + 1 : 0 } ?? 0
        let rows = try chain.checkpoints?.list(from: start, limit: limit + 1) ?? []
        let shown = rows.prefix(limit).map { CheckpointEntryView($0) }
        let view = CheckpointListView(
            checkpoints: Array(shown),
            lastCheckpointedHeight: last,
            sealedHeight: tip,
            unacknowledgedBlocks: Uplink.unacknowledged(sealed: tip, checkpointed: last),
            next: rows.count > limit ? rows[limit].checkpoint.checkpoint.height : nil
        )
        if json { return try emitJSON(view) }
        if shown.isEmpty {
            print(
                chain.checkpoints == nil
                    ? "no checkpoints: this gateway has never pushed to a super node (serve --super-node URL --certificate FILE)"
                    : "no checkpoints stored"
            )
        } else {
            print("height  tree size  serial  checkpointed (UTC)        block hash")
            for c in shown {
                print(
                    "\(String(c.height).leftPadded(6))  \(String(c.treeSize).leftPadded(9))  \(String(c.certificateSerial).leftPadded(6))  \(c.checkpointedTime.padding(toLength: 24, withPad: " ", startingAt: 0))  \(c.blockHash.prefix(16))…"
                )
            }
        }
        let sealed = tip.map { "\($0 + 1) blocks sealed" } ?? "no blocks sealed"
        print(
            "\(sealed); last checkpointed height \(last.map(String.init) ?? "none"); \(view.unacknowledgedBlocks) blocks wait for a checkpoint"
        )
    }

    func emitJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}

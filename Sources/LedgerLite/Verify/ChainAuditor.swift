import Foundation

/// Verifies a gateway's chain one block at a time, as blocks arrive (a super node auditing
/// what a gateway pushes): exactly the checks of `ChainVerifier`, continued from the blocks
/// accepted so far. The call is synchronous and blocks (run it on a thread of your own).
public struct ChainAuditor: Sendable {
    private var run: ChainVerifier.Run

    /// An auditor for a chain that has no block yet.
    public init(gatewayKey: PublicIdentity, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount) {
        run = ChainVerifier.Run(verifier: ChainVerifier(gatewayKey: gatewayKey, concurrency: concurrency))
    }

    /// An auditor that continues after `snapshot`, taken after the block whose signed header
    /// is `header`, without the blocks before it: the snapshot must agree with that header
    /// (`ChainSnapshot.disagreement(with:)`: height, hash, tree size, last timestamp, Merkle
    /// root, state digest, and the signature by the snapshot's gateway key, which must be
    /// `gatewayKey`).
    /// - Throws: `ChainSnapshot.Disagreement` naming what disagrees.
    public init(
        gatewayKey: PublicIdentity,
        resuming snapshot: ChainSnapshot,
        after header: SignedBlockHeader,
        concurrency: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws(ChainSnapshot.Disagreement) {
        var snapshot = snapshot
        guard snapshot.state.gatewayKey == gatewayKey else {
            throw ChainSnapshot.Disagreement(
                "it holds the chain of gateway key \(snapshot.state.gatewayKey.id.hex), not \(gatewayKey.id.hex)"
            )
        }
        if let problem = snapshot.disagreement(with: header) { throw ChainSnapshot.Disagreement(problem) }
        run = ChainVerifier.Run(
            verifier: ChainVerifier(gatewayKey: gatewayKey, concurrency: concurrency),
            snapshot: snapshot,
            headerVersion: header.header.version
        )
    }

    /// The gateway key the chain must be signed with.
    public var gatewayKey: PublicIdentity { run.verifier.gatewayKey }
    /// The last accepted block, nil before the first.
    public var tip: ChainTip? { run.tip }
    /// The height the next block must have.
    public var nextHeight: UInt64 { run.tip.map { $0.height + 1 } ?? 0 }
    /// The chain accepted so far (tip, tree, replayed state).
    public var verified: VerifiedChain { run.result }
    /// The chain accepted so far as a snapshot to resume from (`init(gatewayKey:resuming:after:)`);
    /// nil before the first block.
    public var snapshot: ChainSnapshot? {
        run.tip.map { ChainSnapshot(tip: $0, tree: run.tree, state: run.state) }
    }

    /// Checks `block` as the next block of the chain and, if it passes, makes it the tip.
    /// - Throws: `VerificationFailure` for the first problem; the auditor is then unchanged.
    public mutating func append(_ block: Block) throws(VerificationFailure) {
        var next = run
        try next.check(RawBlock(block, rowHeight: nextHeight))
        run = next
    }
}

extension RawBlock {
    /// A block handed over directly, as if stored at `rowHeight`.
    package init(_ block: Block, rowHeight: UInt64) {
        let first = block.header.header.treeSize &- UInt64(block.entries.count)
        self.init(
            rowHeight: rowHeight,
            storedHash: block.hash.bytes,
            signedHeader: block.header.bytes,
            entries: block.entries.enumerated().map { (first &+ UInt64($0.offset), $0.element.bytes) }
        )
    }
}

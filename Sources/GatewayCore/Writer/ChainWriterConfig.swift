import LedgerLite

/// Settings of the chain writer.
package struct ChainWriterConfig: Sendable {
    /// Seal a block once this many entries are pending.
    package var sealSize = 500
    /// The largest `sealSize` `serve` takes: a block of that many entries, plus what the batch
    /// that fills it brings, stays within one push's body at the super node (`BodyLimit.push`).
    package static let maxSealSize = 10_000
    /// Seal once the oldest pending entry is this old.
    package var sealIntervalMs: Int64 = 2000
    /// A reading may be at most this far ahead of the gateway clock, and at most this far
    /// before the meter's previous reading.
    package var maxSkewMs: Int64 = 300_000
    /// Until when version 1 readings (which name no gateway) are still taken.
    package var readingVersions = ReadingVersionPolicy()
    package var anomalyLimits = AnomalyLimits()
    /// The dispatch policy and offer tolerance to record on the chain at start-up when
    /// they differ from the chain's; nil keeps what the chain says.
    package var trading: TradingPolicy?
    /// Longest the gateway waits for the super node to escalate an unserved request (it
    /// asks other gateways in turn) before answering the consumer unserved. Below
    /// `meter-agent request`'s own 15 s, so the consumer always gets the gateway's answer; a
    /// decision that arrives later is fetched when the consumer sends the request again.
    package var escalationTimeoutMs: Int64 = 10_000
    /// A block carries a resume snapshot once this many entries (and at least one per meter
    /// on the chain) were sealed since the last one: writing one costs O(meters), so this
    /// keeps its cost per entry constant, and start-up replays at most this many entries
    /// (plus a block) after it. The first block of a chain always carries one.
    package var snapshotEntries: UInt64 = 8192

    package init(
        sealSize: Int = 500,
        sealIntervalMs: Int64 = 2000,
        maxSkewMs: Int64 = 300_000,
        readingVersions: ReadingVersionPolicy = ReadingVersionPolicy(),
        anomalyLimits: AnomalyLimits = AnomalyLimits(),
        trading: TradingPolicy? = nil,
        escalationTimeoutMs: Int64 = 10_000,
        snapshotEntries: UInt64 = 8192
    ) {
        self.snapshotEntries = snapshotEntries
        self.sealSize = sealSize
        self.anomalyLimits = anomalyLimits
        self.sealIntervalMs = sealIntervalMs
        self.maxSkewMs = maxSkewMs
        self.readingVersions = readingVersions
        self.trading = trading
        self.escalationTimeoutMs = escalationTimeoutMs
    }
}

extension ChainWriterConfig {
    /// The chain snapshot to store with `block`, which `builder` has just sealed, when one is
    /// due (`snapshotEntries`); counts the block's entries into `entriesSinceSnapshot`.
    package func snapshotChain(
        of builder: BlockBuilder,
        after block: Block,
        entriesSinceSnapshot: inout UInt64
    ) -> ChainSnapshot? {
        entriesSinceSnapshot += UInt64(block.entries.count)
        let due = ChainSnapshot.isDue(
            afterHeight: block.height,
            entriesSince: entriesSinceSnapshot,
            every: snapshotEntries,
            meterCount: builder.state.tnt.meterCount
        )
        guard due, let chain = builder.snapshot,
            chain.tip.hash == block.hash
        else { return nil }
        entriesSinceSnapshot = 0
        return chain
    }
}

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

    package init(
        sealSize: Int = 500,
        sealIntervalMs: Int64 = 2000,
        maxSkewMs: Int64 = 300_000,
        readingVersions: ReadingVersionPolicy = ReadingVersionPolicy(),
        anomalyLimits: AnomalyLimits = AnomalyLimits(),
        trading: TradingPolicy? = nil,
        escalationTimeoutMs: Int64 = 10_000
    ) {
        self.sealSize = sealSize
        self.anomalyLimits = anomalyLimits
        self.sealIntervalMs = sealIntervalMs
        self.maxSkewMs = maxSkewMs
        self.readingVersions = readingVersions
        self.trading = trading
        self.escalationTimeoutMs = escalationTimeoutMs
    }
}

package struct BlockListView: Codable, Sendable {
    package var blocks: [HeaderView]
    /// Height of the latest block; nil for an empty chain.
    package var tip: UInt64?
    /// `from` for the next page; nil at the end.
    package var next: UInt64?

    package init(
        blocks: [HeaderView],
        tip: UInt64? = nil,
        next: UInt64? = nil
    ) {
        self.blocks = blocks
        self.tip = tip
        self.next = next
    }
}

package struct DispatchListView: Codable, Sendable {
    package var dispatches: [DispatchEntryView]
    /// `from` of the next page; nil at the end.
    package var next: UInt64?

    package init(
        dispatches: [DispatchEntryView],
        next: UInt64? = nil
    ) {
        self.dispatches = dispatches
        self.next = next
    }
}

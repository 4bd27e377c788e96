package struct BlockView: Codable, Sendable {
    package var header: HeaderView
    /// The 214 signed header bytes, base64.
    package var signedHeader: String
    package var entries: [EntryView]

    package init(
        header: HeaderView,
        signedHeader: String,
        entries: [EntryView]
    ) {
        self.header = header
        self.signedHeader = signedHeader
        self.entries = entries
    }
}

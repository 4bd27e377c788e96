package struct EntryView: Codable, Sendable {
    /// Global entry index (the Merkle leaf index).
    package var index: UInt64
    /// Block height; nil while pending.
    package var height: UInt64?
    package var signer: String
    /// The envelope bytes, verbatim, in base64.
    package var bytes: String
    package var record: RecordView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        signer: String,
        bytes: String,
        record: RecordView
    ) {
        self.index = index
        self.height = height
        self.signer = signer
        self.bytes = bytes
        self.record = record
    }
}

package struct StoredReadingView: Codable, Sendable {
    package var index: UInt64
    /// nil while the reading is accepted but not yet sealed.
    package var height: UInt64?
    package var sealed: Bool
    package var reading: ReadingView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        sealed: Bool,
        reading: ReadingView
    ) {
        self.index = index
        self.height = height
        self.sealed = sealed
        self.reading = reading
    }
}

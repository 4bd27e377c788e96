package struct ErrorView: Codable, Sendable {
    package var error: String

    package init(
        error: String
    ) {
        self.error = error
    }
}

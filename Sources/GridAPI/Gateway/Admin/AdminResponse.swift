package struct AdminResponse: Codable, Sendable {
    package var meter: String
    package var role: String
    package var action: String
    /// The enrollment or revocation entry, base64.
    package var entry: String

    package init(
        meter: String,
        role: String,
        action: String,
        entry: String
    ) {
        self.meter = meter
        self.role = role
        self.action = action
        self.entry = entry
    }
}

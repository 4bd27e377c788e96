package struct MembershipView: Codable, Sendable {
    package var meter: String
    package var publicKey: String
    package var role: String
    package var timestamp: Int64

    package init(
        meter: String,
        publicKey: String,
        role: String,
        timestamp: Int64
    ) {
        self.meter = meter
        self.publicKey = publicKey
        self.role = role
        self.timestamp = timestamp
    }
}

package struct MeterView: Codable, Sendable {
    package var id: String
    package var publicKey: String
    package var role: String
    package var active: Bool
    /// Last accepted sequence (0 when none).
    package var lastSequence: UInt64
    package var lastReadingTimestamp: Int64?
    package var lastReadingTime: String?
    package var enrolledAt: Int64

    package init(
        id: String,
        publicKey: String,
        role: String,
        active: Bool,
        lastSequence: UInt64,
        lastReadingTimestamp: Int64? = nil,
        lastReadingTime: String? = nil,
        enrolledAt: Int64
    ) {
        self.id = id
        self.publicKey = publicKey
        self.role = role
        self.active = active
        self.lastSequence = lastSequence
        self.lastReadingTimestamp = lastReadingTimestamp
        self.lastReadingTime = lastReadingTime
        self.enrolledAt = enrolledAt
    }
}

package struct AnomalyView: Codable, Sendable {
    package var kind: String
    package var category: String?
    package var subject: String
    package var evidenceHash: String
    package var timestamp: Int64
    package var time: String
    package var detail: String

    package init(
        kind: String,
        category: String? = nil,
        subject: String,
        evidenceHash: String,
        timestamp: Int64,
        time: String,
        detail: String
    ) {
        self.kind = kind
        self.category = category
        self.subject = subject
        self.evidenceHash = evidenceHash
        self.timestamp = timestamp
        self.time = time
        self.detail = detail
    }
}

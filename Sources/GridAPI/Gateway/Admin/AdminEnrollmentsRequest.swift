/// `POST /v1/admin/enrollments`: many meters enrolled at once, with one role, all or none.
package struct AdminEnrollmentsRequest: Codable, Sendable {
    /// At most this many keys in one request; a larger fleet takes several.
    package static let maxKeys = 5_000
    /// The longest key line accepted: `ed25519 `, 44 base64 characters and a short comment.
    package static let maxKeyLineCharacters = 100

    /// `ed25519 <base64> [comment]` lines, the meters' .pub files.
    package var publicKeys: [String]
    /// `consumer` (default) or `producer`, for every key.
    package var role: String?

    package init(publicKeys: [String], role: String? = nil) {
        self.publicKeys = publicKeys
        self.role = role
    }
}

/// The answer to `POST /v1/admin/enrollments`: every meter was enrolled, in the order given.
package struct AdminEnrollmentsResponse: Codable, Sendable {
    /// `enrolled`.
    package var action: String
    package var role: String
    /// The meters' ids, in the order of the request's keys.
    package var meters: [String]

    package init(action: String, role: String, meters: [String]) {
        self.action = action
        self.role = role
        self.meters = meters
    }
}

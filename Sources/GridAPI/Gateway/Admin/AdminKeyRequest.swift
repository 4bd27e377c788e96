package struct AdminKeyRequest: Codable, Sendable {
    /// `ed25519 <base64> [comment]`, the meter's .pub line.
    package var publicKey: String?
    /// Meter id (hex), an alternative to `publicKey` for revocation.
    package var meter: String?
    /// `consumer` (default) or `producer`.
    package var role: String?

    package init(publicKey: String? = nil, meter: String? = nil, role: String? = nil) {
        self.publicKey = publicKey
        self.meter = meter
        self.role = role
    }
}

package struct GatewayView: Codable, Sendable {
    package struct CertificateView: Codable, Sendable {
        package var serial: UInt64
        package var name: String
        package var issuedAt: Int64
        package var revoked: Bool
        package var revokedAt: Int64?

        package init(
            serial: UInt64,
            name: String,
            issuedAt: Int64,
            revoked: Bool,
            revokedAt: Int64? = nil
        ) {
            self.serial = serial
            self.name = name
            self.issuedAt = issuedAt
            self.revoked = revoked
            self.revokedAt = revokedAt
        }
    }

    package var gateway: String
    package var publicKey: String
    package var name: String
    /// True when none of its certificates is still valid.
    package var revoked: Bool
    package var certificates: [CertificateView]
    /// Height of the last audited block; nil before the first.
    package var auditedHeight: UInt64?
    package var auditedTreeSize: UInt64?
    package var auditedBlockHash: String?
    /// The base URL it last announced in a push.
    package var url: String?
    /// True while the value verification has it suspended (until `super-node reinstate`).
    package var suspended: Bool = false
    /// When the suspension in force began.
    package var suspendedAt: Int64?
    /// Value-flagged blocks since its last reinstatement (what `--suspend-after` counts).
    package var valueFlags: Int = 0
    /// Value-flagged blocks in all.
    package var valueFlagsTotal: Int = 0

    package init(
        gateway: String,
        publicKey: String,
        name: String,
        revoked: Bool,
        certificates: [CertificateView],
        auditedHeight: UInt64? = nil,
        auditedTreeSize: UInt64? = nil,
        auditedBlockHash: String? = nil,
        url: String? = nil,
        suspended: Bool = false,
        suspendedAt: Int64? = nil,
        valueFlags: Int = 0,
        valueFlagsTotal: Int = 0
    ) {
        self.gateway = gateway
        self.publicKey = publicKey
        self.name = name
        self.revoked = revoked
        self.certificates = certificates
        self.auditedHeight = auditedHeight
        self.auditedTreeSize = auditedTreeSize
        self.auditedBlockHash = auditedBlockHash
        self.url = url
        self.suspended = suspended
        self.suspendedAt = suspendedAt
        self.valueFlags = valueFlags
        self.valueFlagsTotal = valueFlagsTotal
    }
}

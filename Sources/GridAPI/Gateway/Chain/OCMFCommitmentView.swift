/// An OCMF commitment: which OCMF document of a meter the chain holds by hash.
package struct OCMFCommitmentView: Codable, Sendable {
    package var meter: String
    package var gateway: String
    /// The OCMF pagination number (`PG` is `T` followed by it).
    package var pagination: UInt64
    package var periodStart: Int64
    package var periodEnd: Int64
    /// The meter's P-256 OCMF key, hex of its DER SubjectPublicKeyInfo.
    package var publicKey: String
    /// SHA-256 of the OCMF string, hex.
    package var ocmfHash: String

    package init(
        meter: String,
        gateway: String,
        pagination: UInt64,
        periodStart: Int64,
        periodEnd: Int64,
        publicKey: String,
        ocmfHash: String
    ) {
        self.meter = meter
        self.gateway = gateway
        self.pagination = pagination
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.publicKey = publicKey
        self.ocmfHash = ocmfHash
    }
}

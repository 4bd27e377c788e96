import LedgerLite

/// A certificate as stored, with its revocation.
package struct CertificateRow: Sendable {
    package var signed: SignedGatewayCertificate
    package var revokedAt: Int64?

    package var certificate: GatewayCertificate { signed.certificate }
}

// JSON bodies of escalation (docs/SUPERNODE.md, "Escalation"). Signed things travel as
// base64 of their exact bytes; JSON is only the view around them.

/// `POST /v1/escalations` body (consumer's gateway → super node).
package struct EscalationSubmission: Codable, Sendable, Hashable {
    /// The consumer's gateway's signed certificate, base64.
    package var certificate: String
    /// The consumer-signed request envelope (`SignedRecord` bytes), base64, as on the chain.
    package var request: String
    /// The consumer's package key line (`ed25519 <base64>`), so the super node can check the
    /// request's signature; its id must be the request's consumer.
    package var consumerKey: String

    package init(certificate: String, request: String, consumerKey: String) {
        self.certificate = certificate
        self.request = request
        self.consumerKey = consumerKey
    }
}

/// `POST /v1/blocks` body.
package struct PushRequest: Codable, Sendable {
    /// The gateway's signed certificate, base64.
    package var certificate: String?
    /// The gateway's base URL, where the super node reaches it (escalated dispatches);
    /// optional, `http://` or `https://`.
    package var gatewayURL: String?
    /// Blocks in their wire encoding (docs/FORMATS.md, "Block on the wire"), base64, in height order.
    package var blocks: [String]

    package init(
        certificate: String? = nil,
        gatewayURL: String? = nil,
        blocks: [String]
    ) {
        self.certificate = certificate
        self.gatewayURL = gatewayURL
        self.blocks = blocks
    }
}

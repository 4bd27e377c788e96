/// `GET /v1/root` answer.
package struct RootView: Codable, Sendable {
    package var id: String
    package var publicKey: String
    /// The checkpoint log's origin (its checkpoint's first line); absent from super nodes
    /// older than the log, which is why it is optional to a client.
    package var logOrigin: String?
    /// The note verifier key of the log's checkpoint: `origin+hexkeyid+base64(0x01 ‖ root key)`.
    package var logVerifierKey: String?

    package init(id: String, publicKey: String, logOrigin: String?, logVerifierKey: String?) {
        self.id = id
        self.publicKey = publicKey
        self.logOrigin = logOrigin
        self.logVerifierKey = logVerifierKey
    }
}

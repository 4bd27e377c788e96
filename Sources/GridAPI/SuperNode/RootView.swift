/// `GET /v1/root` answer.
package struct RootView: Codable, Sendable {
    package var id: String
    package var publicKey: String

    package init(
        id: String,
        publicKey: String
    ) {
        self.id = id
        self.publicKey = publicKey
    }
}

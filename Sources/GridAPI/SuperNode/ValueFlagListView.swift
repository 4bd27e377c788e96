/// `GET /v1/flags` answer.
package struct ValueFlagListView: Codable, Sendable {
    package var flags: [ValueFlagView]

    package init(
        flags: [ValueFlagView]
    ) {
        self.flags = flags
    }
}

/// A refusal as JSON.
package struct RejectionView: Codable, Sendable, Equatable {
    package var reason: String
    package var message: String
    package var index: Int?
    package var height: UInt64?
    /// For `gap`: the height the super node expects next.
    package var expectedHeight: UInt64?

    package init(
        reason: String,
        message: String,
        index: Int? = nil,
        height: UInt64? = nil,
        expectedHeight: UInt64? = nil
    ) {
        self.reason = reason
        self.message = message
        self.index = index
        self.height = height
        self.expectedHeight = expectedHeight
    }
}

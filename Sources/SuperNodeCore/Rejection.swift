/// A refusal: the reason code, one sentence, and which block of the push (if any).
package struct Rejection: Error, Sendable, Equatable {
    package var reason: Reason
    package var message: String
    /// Position of the block in the push's `blocks` array.
    package var index: Int?
    /// The block's height, when its header decoded.
    package var height: UInt64?
    /// For `gap`: the height the super node expects next (push from there).
    package var expectedHeight: UInt64? = nil
    /// Seconds after which the same request may succeed, sent as `Retry-After`.
    package var retryAfterSeconds: Int? = nil

    package init(
        reason: Reason,
        message: String,
        index: Int? = nil,
        height: UInt64? = nil,
        expectedHeight: UInt64? = nil,
        retryAfterSeconds: Int? = nil
    ) {
        self.reason = reason
        self.message = message
        self.index = index
        self.height = height
        self.expectedHeight = expectedHeight
        self.retryAfterSeconds = retryAfterSeconds
    }
}

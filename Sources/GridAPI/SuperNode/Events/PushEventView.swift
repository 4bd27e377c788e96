/// One push the super node answered, in its event stream (`event: push`): pushes that passed
/// the certificate and signature checks, whether their blocks were accepted or not.
package struct PushEventView: Codable, Sendable {
    /// When it was answered (ms UTC).
    package var at: Int64
    /// The pushing gateway's id.
    package var gateway: String
    /// The answer given to it: checkpoints of the accepted blocks, value flags, the rejection.
    package var answer: PushResponse

    package init(at: Int64, gateway: String, answer: PushResponse) {
        self.at = at
        self.gateway = gateway
        self.answer = answer
    }
}

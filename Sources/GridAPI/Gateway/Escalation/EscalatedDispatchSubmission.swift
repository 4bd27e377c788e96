// JSON bodies of escalation (docs/SUPERNODE.md, "Escalation"). Signed things travel as
// base64 of their exact bytes; JSON is only the view around them.

/// `POST /v1/escalated-dispatches` body (super node → producer's gateway).
package struct EscalatedDispatchSubmission: Codable, Sendable, Hashable {
    /// The signed decision, base64.
    package var decision: String

    package init(decision: String) {
        self.decision = decision
    }
}

/// Why the writer would not commit an escalated decision; the raw value is the reason code
/// of `POST /v1/escalated-dispatches` (docs/GATEWAY.md).
package enum EscalationRefusal: String, Sendable {
    case insufficientEnergy = "insufficient-energy"
    case unknownProducer = "unknown-producer"
    case untrustedDecision = "untrusted-decision"
    case wrongGateway = "wrong-gateway"
    case decisionReplayed = "decision-replayed"
    case notEscalatable = "not-escalatable"
    case storage

    /// HTTP status of the refusal: conflicts (the state moved on) are 409, the super node
    /// should try another producer; a decision this gateway cannot trust is 403.
    package var httpStatus: Int {
        switch self {
        case .insufficientEnergy, .unknownProducer, .decisionReplayed, .notEscalatable: return 409
        case .untrustedDecision, .wrongGateway: return 403
        case .storage: return 503
        }
    }
}

/// Why an escalation was not served (the `reason` of an unserved answer). Stable codes
/// (docs/SUPERNODE.md, "Escalation").
package enum EscalationOutcome: String, Sendable {
    /// No other gateway's producer has the energy (or no other gateway could be asked).
    case noCandidate = "no-candidate"
    /// Every candidate tried (at most `SuperNode.maxEscalationAttempts`) refused: its
    /// energy was spent meanwhile.
    case candidatesExhausted = "candidates-exhausted"
    /// A decision was sent to a producer gateway that did not answer: whether it committed
    /// is unknown, so no other producer is asked until it answers (escalate again later).
    case producerGatewayUnreachable = "producer-gateway-unreachable"
}

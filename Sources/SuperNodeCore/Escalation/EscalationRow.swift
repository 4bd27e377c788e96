import LedgerLite

/// A stored decision (table `escalation`).
package struct EscalationRow: Sendable {
    package var decision: SignedEscalationDecision
    package var status: String
    package var producerTNTBefore: UInt64?
}

import LedgerLite

/// What the writer did with an escalation decision: the chain entry (new or already
/// there) or why not.
package struct EscalationCommit: Sendable {
    package var entry: SignedRecord?
    package var replayed = false
    package var refusal: EscalationRefusal?
    package var detail: String?
    /// The producer's TNT before and available energy after (producer side).
    package var producerTNTBefore: UInt64?
    package var availableWh: UInt64?
}

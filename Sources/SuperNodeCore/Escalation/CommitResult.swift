/// What a producer gateway said to a decision.
package enum CommitResult: Sendable {
    case committed(producerTNTBefore: UInt64?)
    /// It answered that it did not commit (energy spent, producer unknown, …).
    case refused(reason: String, message: String)
    /// No usable answer: it may or may not have committed.
    case unknown(String)
}

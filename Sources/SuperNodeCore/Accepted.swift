import LedgerLite

/// One block's answer: its checkpoint, whether the block had been accepted before, the value
/// flags it raised and the suspension it triggered (never for a replay).
package struct Accepted: Sendable {
    package var checkpoint: SignedCheckpoint
    package var replayed: Bool
    package var flags: [ValueFlag] = []
    package var suspension: Suspension?
}

/// A gateway's value verification standing: its active suspension, if any, and its flagged
/// blocks since its last reinstatement and in all.
package struct ValueStanding: Sendable, Equatable {
    package var suspension: Suspension?
    package var flaggedBlocks: Int = 0
    package var flaggedBlocksTotal: Int = 0
}

import LedgerLite

/// An accepted entry not yet in a block.
package struct PendingEntry: Sendable {
    package var index: UInt64
    package var time: Int64
    package var entry: SignedRecord
}

import LedgerLite

/// A block the builder sealed, on its way to the archiver, with the chain snapshot after it
/// when one is due (the archiver adds its memory of the sealed entries and stores both in
/// one transaction).
package struct SealedBlock: Sendable {
    package var block: Block
    package var chain: ChainSnapshot?
}

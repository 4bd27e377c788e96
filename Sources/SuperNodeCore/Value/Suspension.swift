import LedgerLite

/// A gateway's suspension: raised when its flagged blocks reached `--suspend-after`,
/// lifted by `super-node reinstate`.
package struct Suspension: Sendable, Equatable {
    package var gateway: GatewayID
    package var suspendedAt: Int64
    /// The flagged block that triggered it.
    package var height: UInt64
    /// Flagged blocks since the previous reinstatement, when it was raised.
    package var flagCount: Int
    package var reinstatedAt: Int64?
    /// The audited height when it was lifted: flags count anew above it.
    package var reinstatedHeight: UInt64?
    package var note: String?
}

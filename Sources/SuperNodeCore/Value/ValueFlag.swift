import LedgerLite

/// A value flag: after block `height` of `gateway`'s chain, `producer` had dispatched more
/// energy than its meter exported, beyond the super node's tolerance (docs/SUPERNODE.md,
/// "Value verification").
package struct ValueFlag: Sendable, Equatable {
    package var gateway: GatewayID
    package var height: UInt64
    package var producer: MeterID
    /// The producer's cumulative energy dispatched on the chain (served and split shares), Wh.
    package var dispatchedWh: UInt64
    /// The producer's cumulative metered export on the chain, Wh.
    package var exportedWh: UInt64
    /// The super node's tolerance when the flag was raised (`--value-tolerance-wh`), Wh.
    package var toleranceWh: UInt64
    /// The offer tolerance the chain's own policy declared at that block, Wh.
    package var chainToleranceWh: UInt64
    /// When the flag was raised, ms since the Unix epoch.
    package var flaggedAt: Int64
}

/// A value flag as JSON (docs/SUPERNODE.md, "Value verification").
package struct ValueFlagView: Codable, Sendable, Equatable {
    package var gateway: String
    package var height: UInt64
    package var producer: String
    /// The producer's cumulative energy dispatched on the chain after the block, Wh.
    package var dispatchedWh: UInt64
    /// The producer's cumulative metered export on the chain after the block, Wh.
    package var exportedWh: UInt64
    /// The super node's `--value-tolerance-wh` when it was raised.
    package var toleranceWh: UInt64
    /// The offer tolerance the chain's own policy declared.
    package var chainToleranceWh: UInt64
    package var flaggedAt: Int64

    package init(
        gateway: String,
        height: UInt64,
        producer: String,
        dispatchedWh: UInt64,
        exportedWh: UInt64,
        toleranceWh: UInt64,
        chainToleranceWh: UInt64,
        flaggedAt: Int64
    ) {
        self.gateway = gateway
        self.height = height
        self.producer = producer
        self.dispatchedWh = dispatchedWh
        self.exportedWh = exportedWh
        self.toleranceWh = toleranceWh
        self.chainToleranceWh = chainToleranceWh
        self.flaggedAt = flaggedAt
    }
}

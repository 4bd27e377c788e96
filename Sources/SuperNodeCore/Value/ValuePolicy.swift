import LedgerLite

/// The super node's own value rule (docs/SUPERNODE.md, "Value verification"): after each
/// audited block, a producer the block dispatches energy from is flagged when its
/// cumulative dispatched energy exceeds its cumulative metered export plus `toleranceWh`;
/// `suspendAfter` flagged blocks since the last reinstatement suspend the gateway.
package struct ValuePolicy: Sendable, Equatable {
    /// `serve --value-tolerance-wh`: Wh a producer may be dispatched beyond its metered export.
    package var toleranceWh: UInt64 = 0
    /// `serve --suspend-after`: flagged blocks (≥ 1) that suspend a gateway.
    package var suspendAfter: Int = 3

    package init(toleranceWh: UInt64 = 0, suspendAfter: Int = 3) {
        self.toleranceWh = toleranceWh
        self.suspendAfter = suspendAfter
    }

    /// The defaults: tolerance 0 Wh, suspension after 3 flagged blocks.
    package static let standard = ValuePolicy()

    /// The flags for `block`, just audited, given the replayed state after it: one per
    /// producer its dispatches take energy from (by producer id), when that producer's
    /// dispatched energy exceeds its metered export plus the tolerance. Pure.
    package func flags(for block: Block, after state: TNTState, gateway: GatewayID, at time: Int64) -> [ValueFlag] {
        var producers = Set<MeterID>()
        for entry in block.entries {
            if case let .dispatch(d) = entry.record {
                for share in d.outcome.shares { producers.insert(share.producer) }
            }
        }
        return producers.sorted().compactMap { producer in
            guard let status = state.status(of: producer) else { return nil }
            let (ceiling, overflow) = status.exportedWh.addingReportingOverflow(toleranceWh)
            guard !overflow, status.servedWh > ceiling else { return nil }
            return ValueFlag(
                gateway: gateway,
                height: block.height,
                producer: producer,
                dispatchedWh: status.servedWh,
                exportedWh: status.exportedWh,
                toleranceWh: toleranceWh,
                chainToleranceWh: state.offerToleranceWh,
                flaggedAt: time
            )
        }
    }
}

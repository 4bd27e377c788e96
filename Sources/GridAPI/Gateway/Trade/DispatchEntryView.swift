import LedgerLite

/// One Dispatch entry with the request it answers.
package struct DispatchEntryView: Codable, Sendable {
    /// Global entry index of the Dispatch.
    package var index: UInt64
    /// Block height; nil while pending.
    package var height: UInt64?
    package var sealed: Bool
    package var consumer: String
    package var requestSequence: UInt64
    /// The request's amount; nil only if the request is not on the chain (a chain that
    /// does not verify).
    package var requestedWh: UInt64?
    /// Entry index of the request; nil as `requestedWh`.
    package var requestIndex: UInt64?
    package var requestTimestamp: Int64?
    package var requestTime: String?
    /// `lowest-tnt` or `split-tnt`.
    package var policy: String
    /// `served`, `unserved` or `split`.
    package var outcome: String
    /// Energy delivered, Wh (0 when unserved).
    package var deliveredWh: UInt64
    /// Who delivers it: one share when served, several when split, none when unserved.
    package var shares: [DispatchShareView]

    package init(
        index: UInt64,
        height: UInt64?,
        dispatch d: Dispatch,
        request: (index: UInt64, request: EnergyRequest)?
    ) {
        self.index = index
        self.height = height
        sealed = height != nil
        consumer = d.request.consumer.hex
        requestSequence = d.request.sequence
        requestedWh = request?.request.energyWh
        requestIndex = request?.index
        requestTimestamp = request?.request.timestamp
        requestTime = request.map { isoTime($0.request.timestamp) }
        policy = d.policy.description
        switch d.outcome {
        case .unserved: outcome = "unserved"
        case .served: outcome = "served"
        case .split: outcome = "split"
        }
        deliveredWh = d.outcome.energyWh
        shares = d.outcome.shares.map(DispatchShareView.init)
    }
}

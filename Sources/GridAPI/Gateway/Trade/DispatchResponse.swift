/// The response to `POST /v1/requests`: the TNT rule's decision.
package struct DispatchResponse: Codable, Sendable, Hashable {
    package var status: TradeStatus
    /// The consumer's meter id (hex), when the record decoded.
    package var consumer: String?
    /// The request's sequence number, when the record decoded.
    package var sequence: UInt64?
    /// Energy requested, Wh.
    package var requestedWh: UInt64?
    /// The policy that decided: "lowest-tnt" or "split-tnt".
    package var policy: String?
    /// Who serves the request: one producer under the plain rule; several, in TNT order,
    /// under the split policy when no single producer can cover it. Empty when unserved.
    package var shares: [DispatchShareView]
    /// Height of the block the request and its dispatch will be sealed in.
    package var blockHeight: UInt64?
    /// Set for `unserved`, `rejected` and `retry`.
    package var reason: TradeReason?
    /// A sentence for people.
    package var detail: String?
    /// Set when the request, unserved here, was escalated to the super node: `result`
    /// `served` means `shares` names the remote producer of `escalation.producerGateway`.
    package var escalation: EscalationInfo?

    package init(
        status: TradeStatus,
        consumer: String? = nil,
        sequence: UInt64? = nil,
        requestedWh: UInt64? = nil,
        policy: String? = nil,
        shares: [DispatchShareView] = [],
        blockHeight: UInt64? = nil,
        reason: TradeReason? = nil,
        detail: String? = nil,
        escalation: EscalationInfo? = nil
    ) {
        self.escalation = escalation
        self.status = status
        self.consumer = consumer
        self.sequence = sequence
        self.requestedWh = requestedWh
        self.policy = policy
        self.shares = shares
        self.blockHeight = blockHeight
        self.reason = reason
        self.detail = detail
    }
}

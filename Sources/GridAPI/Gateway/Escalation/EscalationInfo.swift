/// What happened when the gateway escalated an unserved request (part of `DispatchResponse`).
package struct EscalationInfo: Codable, Sendable, Hashable {
    /// `served`, or why not: the super node's reason (`no-candidate`, …),
    /// `super-node-unreachable`, `refused` (the super node refused the escalation) or
    /// `not-recorded` (decided, but this gateway could not record it).
    package var result: String
    /// The gateway whose producer serves it.
    package var producerGateway: String?
    /// The remote producer.
    package var producer: String?
    package var decisionID: UInt64?
    /// The super node's signed decision, base64.
    package var decision: String?
    /// A sentence for people.
    package var detail: String?

    package init(
        result: String,
        producerGateway: String? = nil,
        producer: String? = nil,
        decisionID: UInt64? = nil,
        decision: String? = nil,
        detail: String? = nil
    ) {
        self.result = result
        self.producerGateway = producerGateway
        self.producer = producer
        self.decisionID = decisionID
        self.decision = decision
        self.detail = detail
    }
}

/// The super node's answer to an escalation.
package struct EscalationAnswer: Codable, Sendable, Hashable {
    /// `served` (a producer gateway committed the decision) or `unserved`.
    package var status: String
    /// Why it is unserved, or why it was refused (a stable code: `no-candidate`,
    /// `candidates-exhausted`, `producer-gateway-unreachable`, `revoked-certificate`, …).
    package var reason: String?
    /// A sentence for people.
    package var message: String?
    /// The signed decision (210 bytes), base64, when served.
    package var decision: String?
    package var decisionID: UInt64?
    package var producerGateway: String?
    package var producer: String?
    package var energyWh: UInt64?
    /// The producer's TNT before, as its gateway recorded it.
    package var producerTNTBefore: UInt64?
    /// True when this request had been escalated before and this is the stored decision.
    package var replayed: Bool?

    package init(
        status: String,
        reason: String? = nil,
        message: String? = nil,
        decision: String? = nil,
        decisionID: UInt64? = nil,
        producerGateway: String? = nil,
        producer: String? = nil,
        energyWh: UInt64? = nil,
        producerTNTBefore: UInt64? = nil,
        replayed: Bool? = nil
    ) {
        self.status = status
        self.reason = reason
        self.message = message
        self.decision = decision
        self.decisionID = decisionID
        self.producerGateway = producerGateway
        self.producer = producer
        self.energyWh = energyWh
        self.producerTNTBefore = producerTNTBefore
        self.replayed = replayed
    }
}

import LedgerLite

/// An escalation record: which side, and the super node's decision it carries.
package struct EscalationRecordView: Codable, Sendable {
    /// `consumer` (this gateway's consumer was served remotely) or `producer`.
    package var side: String
    package var decisionID: UInt64
    package var consumerGateway: String
    package var consumer: String
    package var requestSequence: UInt64
    package var energyWh: UInt64
    package var producerGateway: String
    package var producer: String
    /// Producer side: the producer's TNT before.
    package var producerTNTBefore: UInt64?
    package var decidedAt: Int64
    package var issuer: String

    package init(_ e: Escalation) {
        let d = e.decision.decision
        side = e.role.description
        decisionID = d.decisionID
        consumerGateway = d.consumerGateway.hex
        consumer = d.consumer.hex
        requestSequence = d.requestSequence
        energyWh = d.energyWh
        producerGateway = d.producerGateway.hex
        producer = d.producer.hex
        producerTNTBefore = e.role == .producer ? e.producerTNTBefore : nil
        decidedAt = d.decidedAt
        issuer = d.issuer.hex
    }
}

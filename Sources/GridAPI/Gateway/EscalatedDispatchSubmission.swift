import Foundation

// JSON bodies of escalation (docs/SUPERNODE.md, "Escalation"). Signed things travel as
// base64 of their exact bytes; JSON is only the view around them.

/// `POST /v1/escalated-dispatches` body (super node → producer's gateway).
package struct EscalatedDispatchSubmission: Codable, Sendable, Hashable {
    /// The signed decision, base64.
    package var decision: String

    package init(decision: String) {
        self.decision = decision
    }
}

/// The producer's gateway's answer to an escalated dispatch.
package struct EscalatedDispatchAnswer: Codable, Sendable, Hashable {
    /// `committed` (the producer-side record is journaled) or `refused`.
    package var status: String
    /// Why it was refused: `insufficient-energy`, `unknown-producer`, `untrusted-decision`,
    /// `wrong-gateway`, `decision-replayed`, `no-super-node`, `malformed`, `storage`.
    package var reason: String?
    package var message: String?
    /// The gateway-signed producer-side Escalation entry, base64.
    package var record: String?
    package var producerTNTBefore: UInt64?
    /// The producer's available energy after it, Wh.
    package var availableWh: UInt64?
    /// True when the decision was committed before (the same record is returned).
    package var replayed: Bool?

    package init(
        status: String,
        reason: String? = nil,
        message: String? = nil,
        record: String? = nil,
        producerTNTBefore: UInt64? = nil,
        availableWh: UInt64? = nil,
        replayed: Bool? = nil
    ) {
        self.status = status
        self.reason = reason
        self.message = message
        self.record = record
        self.producerTNTBefore = producerTNTBefore
        self.availableWh = availableWh
        self.replayed = replayed
    }
}

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

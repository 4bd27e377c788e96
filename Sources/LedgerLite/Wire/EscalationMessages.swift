import Foundation

// JSON bodies of escalation (docs/SUPERNODE.md, "Escalation"). Signed things travel as
// base64 of their exact bytes; JSON is only the view around them.

/// `POST /v1/escalations` body (consumer's gateway → super node).
public struct EscalationSubmission: Codable, Sendable, Hashable {
    /// The consumer's gateway's signed certificate, base64.
    public var certificate: String
    /// The consumer-signed request envelope (`SignedRecord` bytes), base64, as on the chain.
    public var request: String
    /// The consumer's public key line (`ed25519 <base64>`), so the super node can check the
    /// request's signature; its id must be the request's consumer.
    public var consumerKey: String

    public init(certificate: String, request: String, consumerKey: String) {
        self.certificate = certificate
        self.request = request
        self.consumerKey = consumerKey
    }
}

/// The super node's answer to an escalation.
public struct EscalationAnswer: Codable, Sendable, Hashable {
    /// `served` (a producer gateway committed the decision) or `unserved`.
    public var status: String
    /// Why it is unserved, or why it was refused (a stable code: `no-candidate`,
    /// `candidates-exhausted`, `producer-gateway-unreachable`, `revoked-certificate`, …).
    public var reason: String?
    /// A sentence for people.
    public var message: String?
    /// The signed decision (210 bytes), base64, when served.
    public var decision: String?
    public var decisionID: UInt64?
    public var producerGateway: String?
    public var producer: String?
    public var energyWh: UInt64?
    /// The producer's TNT before, as its gateway recorded it.
    public var producerTNTBefore: UInt64?
    /// True when this request had been escalated before and this is the stored decision.
    public var replayed: Bool?

    public init(
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

/// `POST /v1/escalated-dispatches` body (super node → producer's gateway).
public struct EscalatedDispatchSubmission: Codable, Sendable, Hashable {
    /// The signed decision, base64.
    public var decision: String

    public init(decision: String) {
        self.decision = decision
    }
}

/// The producer's gateway's answer to an escalated dispatch.
public struct EscalatedDispatchAnswer: Codable, Sendable, Hashable {
    /// `committed` (the producer-side record is journaled) or `refused`.
    public var status: String
    /// Why it was refused: `insufficient-energy`, `unknown-producer`, `untrusted-decision`,
    /// `wrong-gateway`, `decision-replayed`, `no-super-node`, `malformed`, `storage`.
    public var reason: String?
    public var message: String?
    /// The gateway-signed producer-side Escalation entry, base64.
    public var record: String?
    public var producerTNTBefore: UInt64?
    /// The producer's available energy after it, Wh.
    public var availableWh: UInt64?
    /// True when the decision was committed before (the same record is returned).
    public var replayed: Bool?

    public init(
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
public struct EscalationInfo: Codable, Sendable, Hashable {
    /// `served`, or why not: the super node's reason (`no-candidate`, …),
    /// `super-node-unreachable`, `refused` (the super node refused the escalation) or
    /// `not-recorded` (decided, but this gateway could not record it).
    public var result: String
    /// The gateway whose producer serves it.
    public var producerGateway: String?
    /// The remote producer.
    public var producer: String?
    public var decisionID: UInt64?
    /// The super node's signed decision, base64.
    public var decision: String?
    /// A sentence for people.
    public var detail: String?

    public init(
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

/// The super node's decision for an escalated request: a request that no producer of the
/// consumer's gateway could serve is served by `producer` of `producerGateway`, chosen by
/// global TNT. Signed by the root key; both gateways put it, verbatim, on their chains in
/// an `Escalation` record. Layout: docs/FORMATS.md, "Escalation decision".
public struct EscalationDecision: Hashable, Sendable {
    static let recordType: UInt8 = 0x32
    static let version: UInt8 = 1
    /// Length of the encoded decision, in bytes.
    public static let encodedLength = 146

    /// Id of the super node root key that signs it.
    public var issuer: KeyID
    /// The decision's number (≥ 1, unique per issuer): each attempt at a producer gateway
    /// gets a new one.
    public var decisionID: UInt64
    /// The gateway whose chain recorded the request unserved.
    public var consumerGateway: GatewayID
    /// SHA-256 of the request's canonical bytes (the consumer-signed body).
    public var requestHash: Hash256
    /// The consumer that made the request.
    public var consumer: MeterID
    /// The request's sequence number.
    public var requestSequence: UInt64
    /// Energy delivered, Wh (= the request's amount, ≥ 1).
    public var energyWh: UInt64
    /// The gateway whose producer serves it (not the consumer's gateway).
    public var producerGateway: GatewayID
    /// The producer.
    public var producer: MeterID
    /// When the super node decided, ms since the Unix epoch, UTC.
    public var decidedAt: Int64

    /// Creates a decision.
    /// - Throws: `RecordDecodingError.invalidField` for decision id 0, request sequence 0,
    ///   0 Wh, or the same gateway on both sides.
    public init(
        issuer: KeyID,
        decisionID: UInt64,
        consumerGateway: GatewayID,
        requestHash: Hash256,
        consumer: MeterID,
        requestSequence: UInt64,
        energyWh: UInt64,
        producerGateway: GatewayID,
        producer: MeterID,
        decidedAt: Int64
    ) throws(RecordDecodingError) {
        self.issuer = issuer
        self.decisionID = decisionID
        self.consumerGateway = consumerGateway
        self.requestHash = requestHash
        self.consumer = consumer
        self.requestSequence = requestSequence
        self.energyWh = energyWh
        self.producerGateway = producerGateway
        self.producer = producer
        self.decidedAt = decidedAt
        try validate()
    }

    func validate() throws(RecordDecodingError) {
        guard decisionID >= 1 else { throw .invalidField(field: "decision_id", reason: "must be at least 1") }
        guard requestSequence >= 1 else {
            throw .invalidField(field: "request_sequence", reason: "sequence numbers start at 1")
        }
        guard energyWh >= 1 else {
            throw .invalidField(field: "energy_wh", reason: "an escalation delivers at least 1 Wh")
        }
        guard consumerGateway != producerGateway else {
            throw .invalidField(
                field: "producer_gateway",
                reason: "an escalation is served by another gateway than the consumer's"
            )
        }
    }

    /// The request it answers, as the consumer's gateway recorded it.
    public var request: RequestReference { RequestReference(consumer: consumer, sequence: requestSequence) }

    /// The canonical bytes (146).
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: Self.encodedLength)
        w.u8(Self.recordType)
        w.u8(Self.version)
        w.keyID(issuer)
        w.u64(decisionID)
        w.keyID(consumerGateway)
        w.hash(requestHash)
        w.keyID(consumer)
        w.u64(requestSequence)
        w.u64(energyWh)
        w.keyID(producerGateway)
        w.keyID(producer)
        w.i64(decidedAt)
        return w.bytes
    }

    /// Decodes canonical bytes.
    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType, versions: 1...1)
        issuer = try r.keyID("issuer")
        decisionID = try r.u64("decision_id")
        consumerGateway = try r.keyID("consumer_gateway")
        requestHash = try r.hash("request_hash")
        consumer = try r.keyID("consumer")
        requestSequence = try r.u64("request_sequence")
        energyWh = try r.u64("energy_wh")
        producerGateway = try r.keyID("producer_gateway")
        producer = try r.keyID("producer")
        decidedAt = try r.i64("decided_at")
        try r.finish()
        try validate()
    }
}

/// A decision with the root key's signature: `decision bytes (146) ‖ Ed25519 signature (64)`,
/// kept verbatim.
public typealias SignedEscalationDecision = RootSigned<EscalationDecision>

extension EscalationDecision: RootSignedPayload {
    public static var signedName: String { "signed escalation decision" }
}

extension RootSigned where Payload == EscalationDecision {
    /// The decoded decision.
    public var decision: EscalationDecision { payload }
}

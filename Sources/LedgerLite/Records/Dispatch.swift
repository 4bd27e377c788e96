/// The gateway's answer to a request: which producer serves it (or none), signed by the
/// gateway. A verifier replays the TNT rule to check it. Layout: docs/FORMATS.md, "Dispatch".
public struct Dispatch: CanonicalRecord {
    public static let recordType = RecordType.dispatch
    static let version: UInt8 = 1

    /// The request being answered.
    public var request: RequestReference
    /// The rule that decided.
    public var policy: DispatchPolicy
    /// Who serves the request.
    public var outcome: DispatchOutcome

    /// Creates a dispatch record.
    /// - Throws: `RecordDecodingError.invalidField` for a served outcome of 0 Wh.
    public init(request: RequestReference, policy: DispatchPolicy = .lowestTNT, outcome: DispatchOutcome) throws(RecordDecodingError) {
        self.request = request
        self.policy = policy
        self.outcome = outcome
        if case let .served(_, energy, _) = outcome, energy == 0 {
            throw .invalidField(field: "energy_wh", reason: "a served dispatch delivers at least 1 Wh")
        }
    }

    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 68)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(request.consumer)
        w.u64(request.sequence)
        w.u8(policy.rawValue)
        switch outcome {
        case .unserved:
            w.u8(0)
            w.keyID(.zero)
            w.u64(0)
            w.u64(0)
        case let .served(producer, energyWh, tntBefore):
            w.u8(1)
            w.keyID(producer)
            w.u64(energyWh)
            w.u64(tntBefore)
        }
        return w.bytes
    }

    public init(canonicalBytes bytes: ArraySlice<UInt8>) throws(RecordDecodingError) {
        var r = ByteReader(bytes)
        _ = try r.header(type: Self.recordType.rawValue, versions: 1 ... 1)
        let consumer = try r.keyID("consumer")
        let sequence = try r.u64("request_sequence")
        guard sequence >= 1 else { throw .invalidField(field: "request_sequence", reason: "sequence numbers start at 1") }
        let policyByte = try r.u8("policy")
        guard let policy = DispatchPolicy(rawValue: policyByte) else {
            throw .invalidField(field: "policy", reason: "unknown policy \(policyByte)")
        }
        let outcomeByte = try r.u8("outcome")
        let producer = try r.keyID("producer")
        let energy = try r.u64("energy_wh")
        let tnt = try r.u64("producer_tnt_before")
        try r.finish()
        switch outcomeByte {
        case 0:
            guard producer == .zero, energy == 0, tnt == 0 else {
                throw .invalidField(field: "outcome", reason: "an unserved dispatch has zero producer, energy and TNT")
            }
            outcome = .unserved
        case 1:
            guard energy >= 1 else { throw .invalidField(field: "energy_wh", reason: "a served dispatch delivers at least 1 Wh") }
            outcome = .served(producer: producer, energyWh: energy, producerTNTBefore: tnt)
        default:
            throw .invalidField(field: "outcome", reason: "unknown outcome \(outcomeByte)")
        }
        request = RequestReference(consumer: consumer, sequence: sequence)
        self.policy = policy
    }
}

/// The dispatch rule a Dispatch record claims to follow.
public enum DispatchPolicy: UInt8, Sendable, Hashable {
    /// TNT: the producer with the lowest TNT among those whose available energy covers
    /// the request; ties to the lowest producer id; none → unserved.
    case lowestTNT = 1
}

/// Who serves a request.
public enum DispatchOutcome: Hashable, Sendable, CustomStringConvertible {
    /// No producer had enough available energy.
    case unserved
    /// `producer` delivers `energyWh`; its TNT was `producerTNTBefore` before this dispatch.
    case served(producer: MeterID, energyWh: UInt64, producerTNTBefore: UInt64)

    public var description: String {
        switch self {
        case .unserved: return "unserved"
        case let .served(producer, energy, tnt): return "served by \(producer.hex) (\(energy) Wh, TNT before \(tnt))"
        }
    }
}

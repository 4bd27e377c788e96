/// The gateway's answer to a request: which producer serves it (or which producers, under
/// the split policy, or none), signed by the gateway. A verifier replays the TNT rule to
/// check it. Layout: docs/FORMATS.md, "Dispatch".
///
/// Served and unserved outcomes are encoded as version 1 (byte for byte what they always
/// were); a split outcome is encoded as version 2.
public struct Dispatch: CanonicalRecord {
    public static let recordType = RecordType.dispatch
    static let version: UInt8 = 1
    static let splitVersion: UInt8 = 2
    /// Most producers one split dispatch may name. The split rule takes at most this many
    /// producers; a request they cannot cover is unserved.
    public static let maxShares = 100

    /// The request being answered.
    public var request: RequestReference
    /// The rule that decided.
    public var policy: DispatchPolicy
    /// Who serves the request.
    public var outcome: DispatchOutcome

    /// Creates a dispatch record.
    /// - Throws: `RecordDecodingError.invalidField` for a served outcome of 0 Wh, or a split
    ///   outcome that is not under the split policy, has fewer than 2 or more than
    ///   `maxShares` shares, a share of 0 Wh, a producer twice, or a total above 2^64-1 Wh.
    public init(
        request: RequestReference,
        policy: DispatchPolicy = .lowestTNT,
        outcome: DispatchOutcome
    ) throws(RecordDecodingError) {
        self.request = request
        self.policy = policy
        self.outcome = outcome
        try Self.validate(policy: policy, outcome: outcome)
    }

    static func validate(policy: DispatchPolicy, outcome: DispatchOutcome) throws(RecordDecodingError) {
        switch outcome {
        case .unserved:
            return
        case let .served(_, energy, _):
            guard energy >= 1 else {
                throw .invalidField(field: "energy_wh", reason: "a served dispatch delivers at least 1 Wh")
            }
        case let .split(shares):
            guard policy == .splitTNT else {
                throw .invalidField(field: "outcome", reason: "a split outcome needs the split policy")
            }
            guard shares.count >= 2 else {
                throw .invalidField(field: "share_count", reason: "a split dispatch has at least 2 shares")
            }
            guard shares.count <= maxShares else {
                throw .oversizeField(field: "shares", length: shares.count, limit: maxShares)
            }
            var seen = Set<MeterID>()
            var total: UInt64 = 0
            for share in shares {
                guard share.energyWh >= 1 else {
                    throw .invalidField(field: "share energy_wh", reason: "every share delivers at least 1 Wh")
                }
                guard seen.insert(share.producer).inserted else {
                    throw .invalidField(field: "share producer", reason: "producer \(share.producer.hex) appears twice")
                }
                let (sum, overflow) = total.addingReportingOverflow(share.energyWh)
                guard !overflow else {
                    throw .invalidField(field: "share energy_wh", reason: "the shares add up to more than 2^64-1 Wh")
                }
                total = sum
            }
        }
    }

    public func canonicalBytes() -> [UInt8] {
        if case let .split(shares) = outcome {
            var w = ByteWriter(capacity: 29 + 32 * shares.count)
            w.u8(Self.recordType.rawValue)
            w.u8(Self.splitVersion)
            w.keyID(request.consumer)
            w.u64(request.sequence)
            w.u8(policy.rawValue)
            w.u8(2)
            w.u8(UInt8(truncatingIfNeeded: shares.count))
            for share in shares {
                w.keyID(share.producer)
                w.u64(share.energyWh)
                w.u64(share.tntBefore)
            }
            return w.bytes
        }
        var w = ByteWriter(capacity: 68)
        w.u8(Self.recordType.rawValue)
        w.u8(Self.version)
        w.keyID(request.consumer)
        w.u64(request.sequence)
        w.u8(policy.rawValue)
        switch outcome {
        case .unserved, .split:
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
        let version = try r.header(type: Self.recordType.rawValue, versions: 1...2)
        let consumer = try r.keyID("consumer")
        let sequence = try r.u64("request_sequence")
        guard sequence >= 1 else {
            throw .invalidField(field: "request_sequence", reason: "sequence numbers start at 1")
        }
        let policyByte = try r.u8("policy")
        guard let policy = DispatchPolicy(rawValue: policyByte) else {
            throw .invalidField(field: "policy", reason: "unknown policy \(policyByte)")
        }
        let outcomeByte = try r.u8("outcome")
        if version == Self.splitVersion {
            guard outcomeByte == 2 else {
                throw .invalidField(
                    field: "outcome",
                    reason: "version 2 carries only split outcomes (2), not \(outcomeByte)"
                )
            }
            let count = Int(try r.u8("share_count"))
            guard count <= Self.maxShares else {
                throw .oversizeField(field: "shares", length: count, limit: Self.maxShares)
            }
            var shares: [DispatchShare] = []
            shares.reserveCapacity(count)
            for _ in 0..<count {
                let producer = try r.keyID("share producer")
                let energy = try r.u64("share energy_wh")
                let tnt = try r.u64("share producer_tnt_before")
                shares.append(DispatchShare(producer: producer, energyWh: energy, tntBefore: tnt))
            }
            try r.finish()
            outcome = .split(shares)
        } else {
            let producer = try r.keyID("producer")
            let energy = try r.u64("energy_wh")
            let tnt = try r.u64("producer_tnt_before")
            try r.finish()
            switch outcomeByte {
            case 0:
                guard producer == .zero, energy == 0, tnt == 0 else {
                    throw .invalidField(
                        field: "outcome",
                        reason: "an unserved dispatch has zero producer, energy and TNT"
                    )
                }
                outcome = .unserved
            case 1:
                outcome = .served(producer: producer, energyWh: energy, producerTNTBefore: tnt)
            default:
                throw .invalidField(field: "outcome", reason: "unknown version 1 outcome \(outcomeByte)")
            }
        }
        try Self.validate(policy: policy, outcome: outcome)
        request = RequestReference(consumer: consumer, sequence: sequence)
        self.policy = policy
    }
}

/// The dispatch rule a Dispatch record claims to follow. Every Dispatch on a chain must
/// name the policy the chain's latest `PolicyRecord` set (`.lowestTNT` before any).
public enum DispatchPolicy: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// TNT: the producer with the lowest TNT among those whose available energy covers
    /// the request; ties to the lowest producer id; none → unserved.
    case lowestTNT = 1
    /// As `.lowestTNT` when one producer can cover the request; otherwise the request is
    /// split over producers taken in (TNT, id) order, each giving all its available
    /// energy (the last one only what remains), up to `Dispatch.maxShares` producers;
    /// if they cannot cover it, unserved.
    case splitTNT = 2

    public var description: String {
        switch self {
        case .lowestTNT: return "lowest-tnt"
        case .splitTNT: return "split-tnt"
        }
    }
}

/// One producer's part of a split dispatch.
public struct DispatchShare: Hashable, Sendable, CustomStringConvertible {
    /// The producer.
    public var producer: MeterID
    /// Energy it delivers, Wh (at least 1).
    public var energyWh: UInt64
    /// Its TNT before this dispatch.
    public var tntBefore: UInt64

    /// Creates a share.
    public init(producer: MeterID, energyWh: UInt64, tntBefore: UInt64) {
        self.producer = producer
        self.energyWh = energyWh
        self.tntBefore = tntBefore
    }

    public var description: String { "\(producer.hex) (\(energyWh) Wh, TNT before \(tntBefore))" }
}

/// Who serves a request.
public enum DispatchOutcome: Hashable, Sendable, CustomStringConvertible {
    /// No producer (or, under the split policy, no set of producers) had enough available energy.
    case unserved
    /// `producer` delivers `energyWh`; its TNT was `producerTNTBefore` before this dispatch.
    case served(producer: MeterID, energyWh: UInt64, producerTNTBefore: UInt64)
    /// Several producers together deliver the request, in the order the split rule took
    /// them ((TNT, id) ascending). Only under `.splitTNT`, only when no single producer
    /// could cover the request.
    case split([DispatchShare])

    /// Each producer's part: one share when served, several when split, none when unserved.
    public var shares: [DispatchShare] {
        switch self {
        case .unserved: return []
        case let .served(producer, energy, tnt):
            return [DispatchShare(producer: producer, energyWh: energy, tntBefore: tnt)]
        case let .split(shares): return shares
        }
    }

    /// Total energy delivered, Wh (0 when unserved; saturates at 2^64-1).
    public var energyWh: UInt64 {
        shares.reduce(0) { total, share in
            let (sum, overflow) = total.addingReportingOverflow(share.energyWh)
            return overflow ? .max : sum
        }
    }

    public var description: String {
        switch self {
        case .unserved: return "unserved"
        case let .served(producer, energy, tnt): return "served by \(producer.hex) (\(energy) Wh, TNT before \(tnt))"
        case let .split(shares):
            return "split over \(shares.count) producers: " + shares.map(\.description).joined(separator: ", ")
        }
    }
}

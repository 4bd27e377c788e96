import LedgerLite

/// What the gateway found suspicious, finer than the chain's `AnomalyKind`. The chain
/// record's detail starts with the category name and a colon, so a reader of the chain
/// (and `/v1/anomalies`) sees it too.
package enum AnomalyCategory: String, CaseIterable, Sendable, Codable {
    /// An energy counter (import or export) lower than the meter's previous reading.
    case counterRollback = "counter-rollback"
    /// An energy increase the reported power cannot explain.
    case impossibleDelta = "impossible-energy-delta"
    /// A phase voltage outside EN 50160 (207–253 V).
    case voltage = "voltage-out-of-range"
    /// The meter's tamper flag.
    case tamper = "tamper-flag"
    /// A reading arrived with sequence numbers missing before it.
    case sequenceGap = "sequence-gap"
    /// A second, different reading for a sequence number already accepted.
    case equivocation = "equivocation"
    /// Several records claiming one meter failed signature checks within a short window.
    case repeatedBadSignatures = "repeated-bad-signatures"
    /// A producer offered more than its meter exported (plus the tolerance); the offer was cut.
    case offerExceedsProduction = "offer-exceeds-production"
    /// A meter's genuine reading addressed to another gateway: replayed from there, or an
    /// agent that names the wrong gateway.
    case foreignReading = "foreign-reading"

    /// The chain record kind (Anomaly version 1 codes).
    package var kind: AnomalyKind {
        switch self {
        case .counterRollback, .impossibleDelta, .voltage: return .implausibleValue
        case .tamper: return .tamperFlag
        case .sequenceGap: return .sequenceGap
        case .equivocation, .foreignReading: return .replay
        case .repeatedBadSignatures: return .badSignature
        case .offerExceedsProduction: return .offerExceedsProduction
        }
    }

    /// The category named at the start of a chain anomaly's detail, if any.
    package static func parse(detail: String) -> AnomalyCategory? {
        guard let colon = detail.firstIndex(of: ":") else { return nil }
        return AnomalyCategory(rawValue: String(detail[..<colon]))
    }
}

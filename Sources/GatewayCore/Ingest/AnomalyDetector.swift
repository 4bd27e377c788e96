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

    /// The chain record kind (Anomaly version 1 codes).
    package var kind: AnomalyKind {
        switch self {
        case .counterRollback, .impossibleDelta, .voltage: return .implausibleValue
        case .tamper: return .tamperFlag
        case .sequenceGap: return .sequenceGap
        case .equivocation: return .replay
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

/// One anomaly to write on the chain.
package struct AnomalyFinding: Sendable, Hashable {
    package var category: AnomalyCategory
    package var subject: MeterID
    package var evidence: Hash256
    package var detail: String

    package var kind: AnomalyKind { category.kind }
    /// The detail as written on the chain: `category: detail` (cut to the record's limit).
    package var chainDetail: String {
        var text = category.rawValue + ": " + detail
        while text.utf8.count > Anomaly.maxDetailBytes { text.removeLast() }
        return text
    }
}

/// Thresholds of the value checks.
package struct AnomalyLimits: Sendable {
    /// EN 50160: 230 V ± 10 %, in dV.
    package var voltageRange: ClosedRange<Int64> = 2070...2530
    /// Energy may grow by at most `factor` × max(|P|) × Δt plus `toleranceWh`.
    package var energyFactor: Double = 2
    package var energyToleranceWh: Double = 10
    /// This many bad signatures for one meter within `badSignatureWindowMs` is an anomaly.
    package var badSignatureThreshold = 3
    package var badSignatureWindowMs: Int64 = 60_000
}

/// Decides which anomalies to record. Pure state, no I/O: the writer commits a copy only
/// once the batch it belongs to is durable. Each condition is recorded once when it starts
/// (a voltage excursion or a raised tamper flag is one anomaly, not one per reading; a
/// sequence gap one per missing position, not one per retry).
package struct AnomalyDetector: Sendable {
    package var limits = AnomalyLimits()
    /// Meter → the expected sequence for which a gap anomaly was recorded.
    package var gapReported: [MeterID: UInt64] = [:]
    /// (meter, voltage measurand) pairs currently out of range.
    package var voltageOut: Set<VoltageKey> = []
    /// Meters whose latest reading carries the tamper flag.
    package var tampered: Set<MeterID> = []
    /// Bad signatures per claimed meter (only enrolled meters get here, so this is bounded
    /// by the meters, and each tally by the threshold).
    package var badSignatures: [MeterID: BadSignatureTally] = [:]
    /// Evidence hashes of equivocations already recorded.
    package var equivocations: Set<Hash256> = []

    /// One meter's recent bad signatures.
    package struct BadSignatureTally: Sendable {
        /// Times of the latest ones within the window (at most the threshold).
        var recent: [Int64] = []
        /// When the last anomaly for them was recorded.
        var reportedAt: Int64?
        /// Bad signatures since that anomaly, counted into the next one.
        var unreported = 0
    }

    package struct VoltageKey: Hashable, Sendable {
        package var meter: MeterID
        package var measurand: Measurand
    }

    package static let voltages: [Measurand] = [.voltageL1dV, .voltageL2dV, .voltageL3dV]

    /// Checks an accepted reading against the meter's previous accepted one.
    package mutating func readingAccepted(
        _ r: Reading,
        previous: Reading?,
        evidence: @autoclosure () -> Hash256
    ) -> [AnomalyFinding] {
        var found: [AnomalyFinding] = []
        func add(_ category: AnomalyCategory, _ detail: String) {
            found.append(AnomalyFinding(category: category, subject: r.meter, evidence: evidence(), detail: detail))
        }
        if let previous {
            // A chain written before the gateway checked timestamps and counters may hold any
            // value: no difference here may overflow.
            let dtMs = max(0, r.timestamp.saturatingMinus(previous.timestamp))
            let power: Int64? = {
                let values = [previous[.activePowerW], r[.activePowerW]].compactMap { $0 }
                return values.isEmpty ? nil : values.map { $0.magnitude }.max().map { Int64(clamping: $0) }
            }()
            for counter in [Measurand.energyImportWh, .energyExportWh] {
                guard let before = previous[counter], let now = r[counter] else { continue }
                if now < before {
                    add(
                        .counterRollback,
                        "\(counter) went back from \(before) to \(now) Wh between reading \(previous.sequence) and \(r.sequence)"
                    )
                } else if let power {
                    let allowed =
                        limits.energyFactor * Double(power) * Double(dtMs) / 3_600_000 + limits.energyToleranceWh
                    let delta = Double(now) - Double(before)
                    if delta > allowed {
                        add(
                            .impossibleDelta,
                            "\(counter) rose by \(now.saturatingMinus(before)) Wh in \(dtMs) ms between reading \(previous.sequence) and \(r.sequence), but at most \(power) W was reported (allowed \(Int64(exactly: allowed.rounded(.down)) ?? .max) Wh)"
                        )
                    }
                }
            }
        }
        for measurand in Self.voltages {
            let key = VoltageKey(meter: r.meter, measurand: measurand)
            guard let v = r[measurand] else { continue }
            if limits.voltageRange.contains(v) {
                voltageOut.remove(key)
            } else if voltageOut.insert(key).inserted {
                add(
                    .voltage,
                    "\(measurand) \(Self.volts(v)) V in reading \(r.sequence) is outside EN 50160 limits \(Self.volts(limits.voltageRange.lowerBound))–\(Self.volts(limits.voltageRange.upperBound)) V"
                )
            }
        }
        if r.status.contains(.tamper) {
            if tampered.insert(r.meter).inserted {
                add(.tamper, "the meter raised its tamper flag in reading \(r.sequence)")
            }
        } else {
            tampered.remove(r.meter)
        }
        return found
    }

    /// A reading beyond the next expected sequence; an anomaly once per gap position.
    package mutating func sequenceGap(
        meter: MeterID,
        expected: UInt64,
        found: UInt64,
        evidence: Hash256
    ) -> AnomalyFinding? {
        guard gapReported[meter] != expected else { return nil }
        gapReported[meter] = expected
        let missing =
            found - expected == 1 ? "reading \(expected) is missing" : "readings \(expected)…\(found - 1) are missing"
        return AnomalyFinding(
            category: .sequenceGap,
            subject: meter,
            evidence: evidence,
            detail: "expected \(expected), got \(found) (\(missing))"
        )
    }

    /// A different record for an accepted (meter, sequence); once per distinct record.
    package mutating func equivocation(
        meter: MeterID,
        sequence: UInt64,
        evidence: Hash256,
        accepted: Hash256
    ) -> AnomalyFinding? {
        guard equivocations.insert(evidence).inserted else { return nil }
        return AnomalyFinding(
            category: .equivocation,
            subject: meter,
            evidence: evidence,
            detail:
                "reading \(sequence) was already accepted with other bytes (accepted record SHA-256 \(accepted.hex))"
        )
    }

    /// A bad signature for `meter`; an anomaly when the threshold is reached in the window,
    /// and at most one per window: anyone can send records that name an enrolled meter, and
    /// the chain must not grow at their rate. Bad signatures within the window after an
    /// anomaly are counted into the next one.
    package mutating func badSignature(meter: MeterID, at now: Int64, evidence: Hash256) -> AnomalyFinding? {
        let window = limits.badSignatureWindowMs
        var tally = badSignatures[meter] ?? BadSignatureTally()
        defer { badSignatures[meter] = tally }
        if let reported = tally.reportedAt, now.saturatingMinus(reported) < window {
            tally.unreported += 1
            return nil
        }
        tally.recent.removeAll { now.saturatingMinus($0) >= window }
        tally.recent.append(now)
        if tally.recent.count > limits.badSignatureThreshold { tally.recent.removeFirst() }
        let detail: String
        if tally.unreported > 0 {
            detail =
                "\(tally.unreported + 1) records claiming this meter failed the signature check since the last such anomaly, \(now.saturatingMinus(tally.reportedAt ?? now) / 1000) s ago"
        } else if tally.recent.count >= limits.badSignatureThreshold {
            detail =
                "\(tally.recent.count) records claiming this meter failed the signature check within \(window / 1000) s"
        } else {
            return nil
        }
        tally = BadSignatureTally(reportedAt: now)
        return AnomalyFinding(category: .repeatedBadSignatures, subject: meter, evidence: evidence, detail: detail)
    }

    /// Restores state from an anomaly already on the chain (start-up).
    package mutating func remember(_ anomaly: Anomaly) {
        switch AnomalyCategory.parse(detail: anomaly.detail) {
        case .sequenceGap:
            // "sequence-gap: expected N, got M …"
            let words = anomaly.detail.split(separator: " ")
            if let i = words.firstIndex(of: "expected"), i + 1 < words.count,
                let n = UInt64(words[i + 1].trimmingCharacters(in: .punctuationCharacters))
            {
                gapReported[anomaly.subject] = n
            }
        case .equivocation:
            equivocations.insert(anomaly.evidenceHash)
        default:
            break
        }
    }

    /// Restores the voltage and tamper conditions from a meter's latest reading (start-up).
    package mutating func remember(latest r: Reading) {
        for measurand in Self.voltages {
            if let v = r[measurand], !limits.voltageRange.contains(v) {
                voltageOut.insert(VoltageKey(meter: r.meter, measurand: measurand))
            }
        }
        if r.status.contains(.tamper) { tampered.insert(r.meter) }
    }

    package static func volts(_ dV: Int64) -> String {
        let sign = dV < 0 ? "-" : ""
        let m = dV.magnitude
        return "\(sign)\(m / 10).\(m % 10)"
    }
}

import LedgerLite

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
    /// (meter, gateway named) pairs of readings addressed elsewhere already recorded. Only
    /// readings with the meter's valid signature get here, so this is bounded by the meters
    /// and the gateways their readings were ever signed for.
    package var foreignReadings: Set<ForeignKey> = []

    /// One meter's recent bad signatures.
    package struct BadSignatureTally: Sendable {
        /// Times of the latest ones within the window (at most the threshold).
        var recent: [Int64] = []
        /// When the last anomaly for them was recorded.
        var reportedAt: Int64?
        /// Bad signatures since that anomaly, counted into the next one.
        var unreported = 0
    }

    package struct ForeignKey: Hashable, Sendable {
        package var meter: MeterID
        package var gateway: GatewayID
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
                    // A counter moves in steps of its resolution (a reading states it since
                    // version 3, bounded by `Measurand.maxResolutionWh`): one step more than
                    // the power explains is an honest meter's rounding, not an anomaly.
                    let step = counter.resolution.flatMap { r[$0] ?? previous[$0] } ?? 0
                    let allowed =
                        limits.energyFactor * Double(power) * Double(dtMs) / 3_600_000 + limits.energyToleranceWh
                        + Double(step)
                    let delta = Double(now) - Double(before)
                    if delta > allowed {
                        add(
                            .impossibleDelta,
                            "\(counter) rose by \(now.saturatingMinus(before)) Wh in \(dtMs) ms between reading \(previous.sequence) and \(r.sequence), but at most \(power) W was reported (allowed \(Int64(exactly: allowed.rounded(.down)) ?? .max) Wh\(step > 0 ? ", one \(step) Wh counter step included" : ""))"
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

    /// A genuine reading of `meter` addressed to gateway `named`, not this one; an anomaly once
    /// per meter and gateway named, so neither a replayer nor a misconfigured agent makes
    /// the chain grow at its rate.
    package mutating func foreignReading(
        meter: MeterID,
        sequence: UInt64,
        named: GatewayID,
        evidence: Hash256
    ) -> AnomalyFinding? {
        guard foreignReadings.insert(ForeignKey(meter: meter, gateway: named)).inserted else { return nil }
        return AnomalyFinding(
            category: .foreignReading,
            subject: meter,
            evidence: evidence,
            detail:
                "reading \(sequence) is addressed to gateway \(named.hex): taken for that gateway and sent here, or the meter's agent names the wrong gateway"
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
        case .foreignReading:
            // "foreign-reading: reading N is addressed to gateway HEX: …"
            let words = anomaly.detail.split(separator: " ")
            if let i = words.firstIndex(of: "gateway"), i + 1 < words.count,
                let named = GatewayID(hex: words[i + 1].trimmingCharacters(in: .punctuationCharacters))
            {
                foreignReadings.insert(ForeignKey(meter: anomaly.subject, gateway: named))
            }
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

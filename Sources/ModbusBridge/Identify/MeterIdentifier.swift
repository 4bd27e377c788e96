/// What one candidate map made of a unit: it fits, with the evidence, or it is ruled out.
public struct IdentifyResult: Sendable {
    /// The profile's name, or `sunspec` when no SunSpec map was found.
    public var name: String
    /// The profile probed (for SunSpec, the one discovery built).
    public var profile: MeterProfile?
    public var verdict: Verdict

    public enum Verdict: Sendable {
        /// The profile's plan read plausible values: how many, and the most telling ones.
        case fits(values: Int, evidence: [String])
        /// Why the profile cannot be this meter.
        case ruledOut(String)
    }

    /// True for a fit.
    public var fits: Bool {
        if case .fits = verdict { return true }
        return false
    }

    /// Values read, for ranking (0 when ruled out).
    public var values: Int {
        if case .fits(let values, _) = verdict { return values }
        return 0
    }
}

/// Finds which map fits an unknown meter: SunSpec discovery, then each known profile's read
/// plan, judged by `Plausibility`. A profile that gets an exception or no answer, or whose
/// values are implausible, is ruled out; those that fit come first, the one reading the most
/// values first of all.
///
/// Each probe is bounded by the client's response timeout per request and stops at its first
/// failure, so give the client a short timeout and no retries.
public struct MeterIdentifier: Sendable {
    public let client: ModbusClient
    public let unit: UInt8
    public let profiles: [MeterProfile]

    public init(client: ModbusClient, unit: UInt8, profiles: [MeterProfile]) {
        self.client = client
        self.unit = unit
        self.profiles = profiles.sorted { $0.name < $1.name }
    }

    /// Every candidate's result: fits first (most values first), then those ruled out, by name.
    public func identify() async -> [IdentifyResult] {
        var results: [IdentifyResult] = []
        do {
            let device = try await SunSpecDiscovery(client: client, unit: unit).discover()
            let profile = try device.profile()
            results.append(await probe(profile))
        } catch {
            results.append(IdentifyResult(name: "sunspec", profile: nil, verdict: .ruledOut("\(error)")))
        }
        for profile in profiles {
            results.append(await probe(profile))
        }
        return results.enumerated().sorted { a, b in
            if a.element.values != b.element.values { return a.element.values > b.element.values }
            if a.element.fits { return a.offset < b.offset }
            return a.element.name < b.element.name
        }.map(\.element)
    }

    /// Reads `profile`'s plan once and judges the values.
    public func probe(_ profile: MeterProfile) async -> IdentifyResult {
        let snapshot: MeterSnapshot
        do {
            snapshot = try await MeterReader(client: client, profile: profile, unit: unit).read()
        } catch {
            let reason: String
            switch error.kind {
            case .exception(let exception): reason = "\(exception) to \(error.operation)"
            case .timeout: reason = "no answer to \(error.operation)"
            default: reason = "\(error.message) (\(error.operation))"
            }
            return IdentifyResult(name: profile.name, profile: profile, verdict: .ruledOut(reason))
        }
        if let problem = Plausibility.problem(in: snapshot.measurements) {
            return IdentifyResult(name: profile.name, profile: profile, verdict: .ruledOut(problem))
        }
        let present = snapshot.measurements.filter { $0.value.isFinite }
        var evidence: [String] = []
        for name in ["voltage_l1", "voltage", "frequency", "energy_import"] {
            guard evidence.count < 3, let measurement = present.first(where: { $0.measurand.name == name }),
                !(name == "voltage" && evidence.contains { $0.hasPrefix("voltage") })
            else { continue }
            let unit = measurement.measurand.unit
            evidence.append(
                "\(name) \(Plausibility.format(measurement.value))\(unit.isEmpty ? "" : " " + unit)"
            )
        }
        return IdentifyResult(
            name: profile.name,
            profile: profile,
            verdict: .fits(values: present.count, evidence: evidence)
        )
    }
}

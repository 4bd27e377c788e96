import Foundation
import ModbusBridge
import OperatorKit
import Yams

/// What to emulate: buses, each with its transport and meters. From flags or YAML.
package struct FleetConfig: Sendable, Equatable {
    package struct Meter: Sendable, Equatable {
        package var profile: String
        package var unit: UInt8
        package var role: EmulatedRole
        package var seed: UInt64
        package var ratedPower: Double?
        package var anomalies: [InjectedAnomaly]
        /// A slow meter: it answers this long after a request (nil: at once).
        package var responseDelay: Duration?
        /// For a SunSpec device (profile `sunspec-ID`): where its `SunS` marker is.
        package var sunspecBase: UInt16

        package init(
            profile: String,
            unit: UInt8,
            role: EmulatedRole,
            seed: UInt64,
            ratedPower: Double? = nil,
            anomalies: [InjectedAnomaly],
            responseDelay: Duration? = nil,
            sunspecBase: UInt16 = 40000
        ) {
            self.responseDelay = responseDelay
            self.sunspecBase = sunspecBase
            self.profile = profile
            self.unit = unit
            self.role = role
            self.seed = seed
            self.ratedPower = ratedPower
            self.anomalies = anomalies
        }
    }

    package enum Transport: Sendable, Equatable {
        /// A pseudo-terminal, linked at this path.
        case ptyLink(String)
        /// Modbus TCP on HOST:PORT.
        case tcp(host: String, port: Int)
        /// A real serial device (an RS-485 adapter, the emulator acting as the meter).
        case device(String)
    }

    package struct Bus: Sendable, Equatable {
        package var transport: Transport
        package var baud: Int?
        package var parity: Parity?
        package var wireTiming: Bool
        package var faults: FaultInjection
        /// TCP only: how long a client may stay silent, or leave a request unfinished,
        /// before it is disconnected; nil keeps silent clients for ever.
        package var idleTimeout: Duration?
        package var meters: [Meter]

        package init(
            transport: Transport,
            baud: Int? = nil,
            parity: Parity? = nil,
            wireTiming: Bool,
            faults: FaultInjection,
            idleTimeout: Duration? = ServerOptions.defaultIdleTimeout,
            meters: [Meter]
        ) {
            self.transport = transport
            self.baud = baud
            self.parity = parity
            self.wireTiming = wireTiming
            self.faults = faults
            self.idleTimeout = idleTimeout
            self.meters = meters
        }
    }

    package var start: Date
    package var speed: Double
    package var buses: [Bus]

    package init(start: Date, speed: Double, buses: [Bus]) {
        self.start = start
        self.speed = speed
        self.buses = buses
    }
}

/// The YAML fleet file (documented in docs/EMULATOR.md).
package struct FleetFile: Decodable {
    /// One meter (`unit`, `profile`, `role`), or many alike (`units: 1-200`, with `profiles`
    /// and `roles` dealt round-robin over them). `sunspec: 203` is `profile: sunspec-203`, a
    /// SunSpec device with its marker at `sunspec-base` (0, 40000 or 50000; default 40000).
    package struct MeterEntry: Decodable {
        package var sunspec: UInt16?
        package var sunspecBase: UInt16?
        package var profile: String?
        package var profiles: [String]?
        package var unit: Int?
        package var units: String?
        package var role: String?
        package var roles: [String]?
        package var seed: UInt64?
        package var ratedPower: Double?
        package var anomalies: [String]?
        package var responseDelay: String?

        package enum CodingKeys: String, CodingKey {
            case sunspec
            case sunspecBase = "sunspec-base"
            case profile, profiles, unit, units, role, roles, seed, ratedPower, anomalies, responseDelay
        }
    }

    package struct BusEntry: Decodable {
        package var ptyLink: String?
        package var tcp: String?
        package var device: String?
        package var baud: Int?
        package var parity: String?
        package var wireTiming: Bool?
        package var faultRate: Double?
        package var faults: [String]?
        package var idleTimeout: String?
        package var meters: [MeterEntry]

        package enum CodingKeys: String, CodingKey {
            case ptyLink = "pty-link"
            case tcp, device, baud, parity
            case wireTiming = "wire-timing"
            case faultRate = "fault-rate"
            case idleTimeout = "idle-timeout"
            case faults, meters
        }
    }

    package var seed: UInt64?
    package var speed: Double?
    package var start: String?
    package var buses: [BusEntry]

    /// Reads and checks a fleet file; every error names the file and the field.
    package static func load(path: String) throws -> FleetConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(path, "cannot read the fleet file: \(error.localizedDescription)")
        }
        let file: FleetFile
        do {
            file = try YAMLDecoder().decode(FleetFile.self, from: text)
        } catch let error as DecodingError {
            throw ConfigFileError(path, "\(Self.describe(error))")
        } catch {
            throw ConfigFileError(path, "not valid YAML: \(error)")
        }
        return try file.resolve(path: path)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing (required)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context.codingPath)): wrong type"
        case .dataCorrupted(let context): return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    package func resolve(path: String) throws -> FleetConfig {
        let baseSeed = seed ?? 1
        var resolved: [FleetConfig.Bus] = []
        for (busIndex, entry) in buses.enumerated() {
            let at = "\(path): buses[\(busIndex)]"
            let transports = [entry.ptyLink, entry.tcp, entry.device].compactMap { $0 }
            guard transports.count == 1 else {
                throw ConfigFileError(at, "give exactly one of pty-link, tcp or device")
            }
            let transport: FleetConfig.Transport
            if let link = entry.ptyLink {
                transport = .ptyLink(link)
            } else if let tcp = entry.tcp {
                let address = try HostPort(parsing: tcp, flag: "\(at).tcp")
                transport = .tcp(host: address.host, port: address.port)
            } else {
                transport = .device(entry.device ?? "")
            }
            var parity: Parity?
            if let text = entry.parity {
                guard let value = Parity(flag: text) else {
                    throw ConfigFileError("\(at).parity", "'\(text)' is not N, E or O")
                }
                parity = value
            }
            let faults = try FaultOptions.injection(
                rate: entry.faultRate ?? 0,
                kinds: entry.faults ?? [],
                seed: baseSeed,
                context: at
            )
            let idleTimeout = try IdleTimeoutOption.resolve(
                entry.idleTimeout,
                tcp: entry.tcp != nil,
                context: "\(at).idle-timeout"
            )
            var meters: [FleetConfig.Meter] = []
            for (meterIndex, meter) in entry.meters.enumerated() {
                meters += try meter.resolve(
                    at: "\(at).meters[\(meterIndex)]",
                    seed: { unit in baseSeed &+ UInt64(busIndex * 1000 + Int(unit)) }
                )
            }
            guard !meters.isEmpty else { throw ConfigFileError("\(at).meters", "the list is empty") }
            if let shared = UnitList.firstRepeated(in: meters.map(\.unit)) {
                throw ConfigFileError("\(at).meters", "two meters share unit id \(shared)")
            }
            resolved.append(
                FleetConfig.Bus(
                    transport: transport,
                    baud: entry.baud,
                    parity: parity,
                    wireTiming: entry.wireTiming ?? false,
                    faults: faults,
                    idleTimeout: idleTimeout,
                    meters: meters
                )
            )
        }
        guard !resolved.isEmpty else { throw ConfigFileError(path, "buses: the list is empty") }
        return FleetConfig(
            start: try Self.parseStart(start, context: "\(path): start") ?? Date(),
            speed: speed ?? 1,
            buses: resolved
        )
    }

    /// ISO 8601 (`2026-06-21T12:00:00Z`) or nil for now.
    package static func parseStart(_ text: String?, context: String) throws -> Date? {
        guard let text else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw ConfigFileError(context, "'\(text)' is not an ISO 8601 time like 2026-06-21T12:00:00Z")
    }
}

extension FleetFile.MeterEntry {
    /// The meters this entry describes; `seed` gives a unit's seed when the entry has none.
    func resolve(at context: String, seed defaultSeed: (UInt8) -> UInt64) throws -> [FleetConfig.Meter] {
        let units = try UnitList(unit: unit, units: self.units, context: context).units
        guard seed == nil || units.count == 1 else {
            throw ConfigFileError("\(context).seed", "a seed names one meter; leave it out with units")
        }
        let profiles: [String]
        if let sunspec {
            guard profile == nil, self.profiles == nil else {
                throw ConfigFileError("\(context).sunspec", "a SunSpec device has no profile; leave out profile(s)")
            }
            profiles = [SunSpecEmulation.profileName(model: sunspec)]
        } else {
            profiles = try ConfigFileList.profiles(profile, self.profiles, context: context)
        }
        let base = sunspecBase ?? 40000
        guard SunSpecEmulation.bases.contains(base) else {
            throw ConfigFileError("\(context).sunspec-base", "\(base) is not 0, 40000 or 50000")
        }
        for name in profiles {
            let field = sunspec == nil ? "profile" : "sunspec"
            try SunSpecEmulation.check(profileName: name, base: base, context: "\(context).\(field)")
        }
        let roleNames =
            try ConfigFileList.oneOrMany(role, roles, names: ("role", "roles"), context: context) ?? ["consumer"]
        let roles = try roleNames.map { name in
            guard let role = EmulatedRole(rawValue: name) else {
                throw ConfigFileError(
                    "\(context).\(self.roles == nil ? "role" : "roles")",
                    "'\(name)' is not one of \(EmulatedRole.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return role
        }
        let anomalies = try (self.anomalies ?? []).map { text in
            guard let anomaly = InjectedAnomaly(argument: text) else {
                throw ConfigFileError(
                    "\(context).anomalies",
                    "'\(text)' is not KIND[@OFFSET] with KIND one of \(InjectedAnomaly.allValueStrings.joined(separator: ", "))"
                )
            }
            return anomaly
        }
        var delay: Duration?
        if let responseDelay {
            guard let parsed = DurationArgument(argument: responseDelay), parsed.duration <= .seconds(10) else {
                throw ConfigFileError(
                    "\(context).responseDelay",
                    "'\(responseDelay)' is not a delay up to 10s such as 300ms or 1.5s"
                )
            }
            delay = parsed.duration
        }
        return units.enumerated().map { index, unit in
            FleetConfig.Meter(
                profile: profiles[index % profiles.count],
                unit: unit,
                role: roles[index % roles.count],
                seed: seed ?? defaultSeed(unit),
                ratedPower: ratedPower,
                anomalies: anomalies,
                responseDelay: delay,
                sunspecBase: base
            )
        }
    }
}

/// Parses fault lists: `no-reply`, `corrupt`, `delay:300ms`, `exception:6`.
package enum FaultOptions {
    package static func injection(rate: Double, kinds: [String], seed: UInt64, context: String) throws -> FaultInjection
    {
        guard (0...1).contains(rate) else { throw ConfigFileError(context, "fault rate must be 0 to 1, not \(rate)") }
        if rate > 0, kinds.isEmpty {
            return FaultInjection(rate: rate, faults: [.noReply, .corruptFrame], seed: seed)
        }
        let faults = try kinds.map { try parse($0, context: context) }
        return FaultInjection(rate: rate, faults: faults, seed: seed)
    }

    package static func parse(_ text: String, context: String) throws -> Fault {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "no-reply": return .noReply
        case "corrupt": return .corruptFrame
        case "delay":
            guard parts.count == 2, let duration = DurationArgument(argument: parts[1]) else { break }
            return .delay(duration.duration)
        case "exception":
            guard parts.count == 2, let code = UInt8(parts[1]), let exception = ModbusException(rawValue: code) else {
                break
            }
            return .exception(exception)
        default: break
        }
        throw ConfigFileError(
            "\(context)",
            "fault '\(text)' is not one of no-reply, corrupt, delay:DURATION, exception:CODE (1-11)"
        )
    }
}

import ArgumentParser
import Foundation
import HomeAssistantMQTT
import LedgerLite
import ModbusBridge
import OperatorKit
import Yams

/// The YAML agent file (documented in docs/AGENT.md).
package struct AgentFile: Decodable {
    /// One meter (`unit`, `profile`, `key`, `role`), or many alike: `units: 1-200`, with
    /// `profiles` and `roles` dealt round-robin over them and `key` a pattern naming each
    /// meter's file with `{unit}` (and `{bus}`, the bus's index from 0, and `{role}`), like
    /// `keys/{role}-bus{bus}-{unit}.key`.
    package struct MeterEntry: Decodable {
        package var unit: Int?
        package var units: String?
        package var profile: String?
        package var profiles: [String]?
        package var key: String
        package var role: String?
        package var roles: [String]?
        /// This meter's timing on a shared bus, over the bus's (`UnitTimingEntry`).
        package var timeout: String?
        package var attempts: Int?
        package var interFrameDelay: String?

        package enum CodingKeys: String, CodingKey {
            case unit, units, profile, profiles, key, role, roles, timeout, attempts
            case interFrameDelay = "inter-frame-delay"
        }
    }

    package struct BusEntry: Decodable {
        package var device: String?
        package var tcp: String?
        package var rtuTcp: String?
        package var baud: Int?
        package var parity: String?
        /// Every meter's timing on this bus unless the meter gives its own.
        package var timeout: String?
        package var attempts: Int?
        package var interFrameDelay: String?
        package var meters: [MeterEntry]

        package enum CodingKeys: String, CodingKey {
            case device, tcp
            case rtuTcp = "rtu-tcp"
            case baud, parity, meters, timeout, attempts
            case interFrameDelay = "inter-frame-delay"
        }
    }

    /// `mqtt:`: publish readings for Home Assistant, as `--mqtt` and its companions do.
    package struct MQTTEntry: Decodable {
        package var url: String
        package var username: String?
        package var passwordFile: String?
        package var ca: String?
        package var node: String?

        package enum CodingKeys: String, CodingKey {
            case url, username, ca, node
            case passwordFile = "password-file"
        }
    }

    package var gateway: String
    package var gatewayID: String?
    package var data: String
    package var interval: String?
    package var outboxLimit: Int?
    package var buses: [BusEntry]
    package var mqtt: MQTTEntry?

    package enum CodingKeys: String, CodingKey {
        case gateway, data, interval, mqtt
        case gatewayID = "gateway-id"
        case outboxLimit = "outbox-limit"
        case buses
    }

    package static func load(path: String) throws -> AgentConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigFileError(path, "cannot read the agent file: \(error.localizedDescription)")
        }
        do {
            return try YAMLDecoder().decode(AgentFile.self, from: text).resolve(path: path)
        } catch let error as ConfigFileError {
            throw error
        } catch {
            throw ConfigFileError(path, "\(error)")
        }
    }

    package func resolve(path: String) throws -> AgentConfig {
        // Paths in the file are relative to the file.
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func absolute(_ value: String) -> String {
            value.hasPrefix("/") ? value : base.appendingPathComponent(value).path
        }
        var resolved: [AgentConfig.Bus] = []
        for (index, entry) in buses.enumerated() {
            let at = "\(path): buses[\(index)]"
            let address: BusAddress
            do {
                address = try BusAddress(
                    device: entry.device,
                    tcp: entry.tcp,
                    rtuOverTCP: entry.rtuTcp,
                    names: ("device", "tcp", "rtu-tcp")
                )
            } catch let error as ValidationError {
                throw ConfigFileError(at, error.message)
            }
            var parity: Parity?
            if let text = entry.parity {
                guard let value = Parity(flag: text) else {
                    throw ConfigFileError("\(at).parity", "'\(text)' is not N, E or O")
                }
                parity = value
            }
            var meters: [AgentConfig.Meter] = []
            for (meterIndex, meter) in entry.meters.enumerated() {
                let context = "\(at).meters[\(meterIndex)]"
                let timing = try UnitTimingEntry.timing(
                    timeout: meter.timeout ?? entry.timeout,
                    attempts: meter.attempts ?? entry.attempts,
                    interFrameDelay: meter.interFrameDelay ?? entry.interFrameDelay,
                    context: context
                )
                meters += try meter.resolve(at: context, bus: index).map {
                    var resolved = $0
                    resolved.key = absolute($0.key)
                    resolved.timing = timing
                    return resolved
                }
            }
            if let shared = UnitList.firstRepeated(in: meters.map(\.unit)) {
                throw ConfigFileError("\(at).meters", "two meters share unit id \(shared)")
            }
            guard !meters.isEmpty else { throw ConfigFileError("\(at).meters", "the list is empty") }
            resolved.append(
                AgentConfig.Bus(
                    address: address,
                    baud: entry.baud,
                    parity: parity,
                    dataBits: nil,
                    stopBits: nil,
                    meters: meters
                )
            )
        }
        guard !resolved.isEmpty else { throw ConfigFileError(path, "buses: the list is empty") }
        guard let url = URL(string: gateway), url.scheme == "http" || url.scheme == "https" else {
            throw ConfigFileError(path, "gateway: '\(gateway)' is not an http:// or https:// URL")
        }
        let interval =
            try interval.map { text in
                guard let value = DurationArgument(argument: text) else {
                    throw ConfigFileError(path, "interval: '\(text)' is not a duration like 5s")
                }
                guard value.duration >= AgentDefaults.minimumInterval else {
                    throw ConfigFileError(path, "interval: must be at least 100ms, not \(text)")
                }
                return value.duration
            } ?? AgentDefaults.interval
        let id = try gatewayID.map { text in
            guard let id = GatewayID(hex: text) else {
                throw ConfigFileError(
                    path,
                    "gateway-id: '\(text)' is not a gateway id (32 hex digits, printed by edge-gateway init and enroll)"
                )
            }
            return id
        }
        let limit = outboxLimit ?? AgentDefaults.outboxLimit
        guard limit > 0 else { throw ConfigFileError(path, "outbox-limit: must be positive, not \(limit)") }
        let mqtt = try self.mqtt.map { entry in
            do {
                let broker = try MQTTBroker(url: entry.url)
                if entry.ca != nil, !broker.tls { throw MQTTError.badURL("mqtt.ca is for TLS: give an mqtts:// url") }
            } catch {
                throw ConfigFileError(path, "mqtt.url: \(error)")
            }
            return AgentConfig.MQTT(
                url: entry.url,
                username: entry.username,
                passwordFile: entry.passwordFile.map(absolute),
                caFile: entry.ca.map(absolute),
                node: entry.node
            )
        }
        return AgentConfig(
            gateway: url,
            gatewayID: id,
            data: absolute(data),
            interval: interval,
            outboxLimit: limit,
            buses: resolved,
            mqtt: mqtt
        )
    }
}

extension AgentFile.MeterEntry {
    /// The meters this entry describes, on the bus numbered `bus` (for `{bus}` in `key`).
    func resolve(at context: String, bus: Int) throws(ConfigFileError) -> [AgentConfig.Meter] {
        let units = try UnitList(unit: unit, units: self.units, context: context).units
        guard units.count == 1 || key.contains("{unit}") else {
            throw ConfigFileError(
                "\(context).key",
                "with units, name each meter's key file with {unit}, like keys/bus\(bus)-{unit}.key"
            )
        }
        let profiles = try ConfigFileList.profiles(profile, profiles, context: context)
        let roleNames = try ConfigFileList.oneOrMany(role, roles, names: ("role", "roles"), context: context)
        var roles: [MeterRole] = []
        for name in roleNames ?? ["consumer"] {
            guard let role = MeterRole(argument: name) else {
                throw ConfigFileError(
                    "\(context).\(self.roles == nil ? "role" : "roles")",
                    "'\(name)' is not producer or consumer"
                )
            }
            roles.append(role)
        }
        return units.enumerated().map { index, unit in
            let role = roles[index % roles.count]
            return AgentConfig.Meter(
                unit: unit,
                profile: profiles[index % profiles.count],
                key: key.replacingOccurrences(of: "{unit}", with: "\(unit)")
                    .replacingOccurrences(of: "{bus}", with: "\(bus)")
                    .replacingOccurrences(of: "{role}", with: "\(role)"),
                role: role
            )
        }
    }
}

/// `timeout`, `attempts` and `inter-frame-delay` of a bus or a meter in the agent file.
package enum UnitTimingEntry {
    /// The timing they describe, nil when none is given; each checked against `UnitTiming`'s bounds.
    package static func timing(
        timeout: String?,
        attempts: Int?,
        interFrameDelay: String?,
        context: String
    ) throws(ConfigFileError) -> UnitTiming? {
        guard timeout != nil || attempts != nil || interFrameDelay != nil else { return nil }
        func duration(_ text: String?, _ key: String, minimum: Duration) throws(ConfigFileError) -> Duration? {
            guard let text else { return nil }
            guard let value = DurationArgument(argument: text), value.duration >= minimum,
                value.duration <= UnitTiming.maxDuration
            else {
                throw ConfigFileError(
                    "\(context).\(key)",
                    "'\(text)' is not a duration from \(minimum) to 60s, like 500ms or 1.5s"
                )
            }
            return value.duration
        }
        if let attempts, !(1...UnitTiming.maxAttempts).contains(attempts) {
            throw ConfigFileError("\(context).attempts", "must be 1 to \(UnitTiming.maxAttempts), not \(attempts)")
        }
        return UnitTiming(
            responseTimeout: try duration(timeout, "timeout", minimum: UnitTiming.minResponseTimeout),
            attempts: attempts,
            interFrameDelay: try duration(interFrameDelay, "inter-frame-delay", minimum: .zero) ?? .zero
        )
    }
}

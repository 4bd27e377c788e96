import ArgumentParser
import Foundation
import LedgerLite
import ModbusBridge
import OperatorKit
import Yams

/// What an agent polls and where it sends the readings: from flags or `--config FILE`.
struct AgentConfig: Sendable {
    struct Meter: Sendable {
        var unit: UInt8
        var profile: String
        /// The meter's private key file (its readings are signed with it).
        var key: String
        /// A producer's export is offered with `--auto-offer`; default consumer.
        var role: MeterRole = .consumer
    }

    struct Bus: Sendable {
        var address: BusAddress
        /// Serial settings given for this bus; the first meter's profile fills the rest.
        var baud: Int?
        var parity: Parity?
        var dataBits: Int?
        var stopBits: Int?
        var meters: [Meter]
    }

    var gateway: URL
    var data: String
    var interval: Duration
    var outboxLimit: Int
    var buses: [Bus]
}

/// The YAML agent file (documented in docs/AGENT.md).
struct AgentFile: Decodable {
    struct MeterEntry: Decodable {
        var unit: Int
        var profile: String
        var key: String
        var role: String?
    }

    struct BusEntry: Decodable {
        var device: String?
        var tcp: String?
        var rtuTcp: String?
        var baud: Int?
        var parity: String?
        var meters: [MeterEntry]

        enum CodingKeys: String, CodingKey {
            case device, tcp, rtuTcp = "rtu-tcp", baud, parity, meters
        }
    }

    var gateway: String
    var data: String
    var interval: String?
    var outboxLimit: Int?
    var buses: [BusEntry]

    enum CodingKeys: String, CodingKey {
        case gateway, data, interval, outboxLimit = "outbox-limit", buses
    }

    static func load(path: String) throws -> AgentConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw OperatorError("\(path): cannot read the agent file: \(error.localizedDescription)")
        }
        do {
            return try YAMLDecoder().decode(AgentFile.self, from: text).resolve(path: path)
        } catch let error as OperatorError {
            throw error
        } catch {
            throw OperatorError("\(path): \(error)")
        }
    }

    func resolve(path: String) throws -> AgentConfig {
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
                address = try BusAddress(device: entry.device, tcp: entry.tcp, rtuOverTCP: entry.rtuTcp,
                                         names: ("device", "tcp", "rtu-tcp"))
            } catch let error as ValidationError {
                throw OperatorError("\(at): \(error.message)")
            }
            var parity: Parity?
            if let text = entry.parity {
                guard let value = Parity(flag: text) else { throw OperatorError("\(at).parity: '\(text)' is not N, E or O") }
                parity = value
            }
            let meters = try entry.meters.enumerated().map { meterIndex, meter in
                guard (1...247).contains(meter.unit) else {
                    throw OperatorError("\(at).meters[\(meterIndex)].unit: must be 1 to 247")
                }
                var role = MeterRole.consumer
                if let name = meter.role {
                    guard let value = MeterRole(argument: name) else {
                        throw OperatorError("\(at).meters[\(meterIndex)].role: '\(name)' is not producer or consumer")
                    }
                    role = value
                }
                return AgentConfig.Meter(unit: UInt8(meter.unit), profile: meter.profile, key: absolute(meter.key), role: role)
            }
            guard !meters.isEmpty else { throw OperatorError("\(at).meters: the list is empty") }
            resolved.append(AgentConfig.Bus(address: address, baud: entry.baud, parity: parity, dataBits: nil,
                                            stopBits: nil, meters: meters))
        }
        guard !resolved.isEmpty else { throw OperatorError("\(path): buses: the list is empty") }
        guard let url = URL(string: gateway), url.scheme == "http" || url.scheme == "https" else {
            throw OperatorError("\(path): gateway: '\(gateway)' is not an http:// or https:// URL")
        }
        let interval = try interval.map { text in
            guard let value = DurationArgument(argument: text) else {
                throw OperatorError("\(path): interval: '\(text)' is not a duration like 5s")
            }
            guard value.duration >= AgentDefaults.minimumInterval else {
                throw OperatorError("\(path): interval: must be at least 100ms, not \(text)")
            }
            return value.duration
        } ?? AgentDefaults.interval
        let limit = outboxLimit ?? AgentDefaults.outboxLimit
        guard limit > 0 else { throw OperatorError("\(path): outbox-limit: must be positive, not \(limit)") }
        return AgentConfig(gateway: url, data: absolute(data), interval: interval, outboxLimit: limit, buses: resolved)
    }
}

enum AgentDefaults {
    /// About 150 MB of readings: days of a large fleet's output during an outage.
    static let outboxLimit = 1_000_000
    static let interval: Duration = .seconds(5)
    static let minimumInterval: Duration = .milliseconds(100)
    /// `--auto-offer`: time between offers, and how long each offer stands.
    static let offerInterval: Duration = .seconds(60)
    static let minimumOfferInterval: Duration = .seconds(1)
    static let offerValidity: Duration = .seconds(15 * 60)
}

/// `--role producer|consumer` and `role:` in the agent file: as the meter is enrolled.
extension MeterRole: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "producer": self = .producer
        case "consumer": self = .consumer
        default: return nil
        }
    }

    public static var allValueStrings: [String] { ["producer", "consumer"] }
}

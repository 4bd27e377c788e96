import AgentCore
import ArgumentParser
import Foundation
import HomeAssistantMQTT
import Logging
import ModbusBridge
import OperatorKit

/// `--mqtt URL` and its companions: publish every reading to an MQTT broker, with Home
/// Assistant discovery (docs/AGENT.md, "MQTT and Home Assistant").
struct MQTTOptions: ParsableArguments {
    @Option(
        name: .customLong("mqtt"),
        help: ArgumentHelp(
            "Publish every reading to this MQTT broker, with Home Assistant discovery: mqtt://host:1883 or mqtts://host:8883 (TLS).",
            valueName: "url"
        )
    )
    var url: String?

    @Option(name: .customLong("mqtt-username"), help: ArgumentHelp("The broker's user name.", valueName: "name"))
    var username: String?

    @Option(
        name: .customLong("mqtt-password-file"),
        help: ArgumentHelp("A file holding the broker's password (first line).", valueName: "file")
    )
    var passwordFile: String?

    @Option(
        name: .customLong("mqtt-ca"),
        help: ArgumentHelp(
            "With mqtts://: the PEM file of the CA that signed the broker's certificate (default: the system's CAs).",
            valueName: "file"
        )
    )
    var caFile: String?

    @Option(
        name: .customLong("mqtt-node"),
        help: ArgumentHelp(
            "This agent's name in MQTT topics (letters, digits, '_', '-'; default: the host name).",
            valueName: "name"
        )
    )
    var node: String?

    func validate() throws {
        guard let url else {
            guard username == nil, passwordFile == nil, caFile == nil, node == nil else {
                throw ValidationError(
                    "--mqtt-username, --mqtt-password-file, --mqtt-ca and --mqtt-node go with --mqtt URL"
                )
            }
            return
        }
        do {
            let broker = try MQTTBroker(url: url)
            if caFile != nil, !broker.tls {
                throw ValidationError("--mqtt-ca is for TLS: give an mqtts:// URL")
            }
        } catch let error as MQTTError {
            throw ValidationError("--mqtt: \(error)")
        }
        if let node, !Self.isTopicSafe(node) {
            throw ValidationError("--mqtt-node '\(node)' may hold only letters, digits, '_' and '-'")
        }
    }

    /// The settings from the flags, or else the agent file's `mqtt:` block, or nil.
    func settings(file: AgentConfig.MQTT?) -> AgentConfig.MQTT? {
        guard let url else { return file }
        return AgentConfig.MQTT(url: url, username: username, passwordFile: passwordFile, caFile: caFile, node: node)
    }

    /// The broker of `settings`, its password read from the password file.
    static func broker(_ settings: AgentConfig.MQTT) throws -> MQTTBroker {
        var broker: MQTTBroker
        do {
            broker = try MQTTBroker(url: settings.url)
        } catch {
            throw OperatorError("\(error)")
        }
        broker.caFile = settings.caFile
        if let username = settings.username { broker.username = username }
        if let passwordFile = settings.passwordFile {
            let text: String
            do {
                text = try String(contentsOfFile: passwordFile, encoding: .utf8)
            } catch {
                throw OperatorError(
                    "MQTT password file \(passwordFile) cannot be read; give a file holding the broker's password"
                )
            }
            broker.password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        return broker
    }

    /// The node name: the one given, or the host name with anything not topic-safe made `-`.
    static func nodeName(_ node: String?) -> String {
        if let node { return node }
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        let safe = String(host.unicodeScalars.map { Self.isTopicSafe(String($0)) ? Character($0) : "-" })
        return safe.isEmpty ? "meter-agent" : safe
    }

    /// The publisher for `meters`, from the flags or else the agent file's `mqtt:` block;
    /// nil without either.
    func publisher(meters: [PolledMeter], file: AgentConfig.MQTT?, logger: Logger) throws -> HomeAssistantPublisher? {
        guard let settings = settings(file: file) else { return nil }
        let broker = try Self.broker(settings)
        let devices = meters.map {
            HomeAssistantReadings.device(
                meter: $0.identity.id,
                profile: $0.reader.profile,
                measurands: $0.factory.measurands
            )
        }
        do {
            return try HomeAssistantPublisher(
                broker: broker,
                node: Self.nodeName(settings.node),
                devices: devices,
                logger: logger
            )
        } catch {
            throw OperatorError("\(error)")
        }
    }

    private static func isTopicSafe(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-")
            }
    }
}

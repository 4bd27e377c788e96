import ArgumentParser
import Foundation
import LedgerLite
import ModbusBridge

/// What an agent polls and where it sends the readings: from flags or `--config FILE`.
package struct AgentConfig: Sendable {
    package struct Meter: Sendable {
        package var unit: UInt8
        package var profile: String
        /// The meter's private key file (its readings are signed with it).
        package var key: String
        /// A producer's export is offered with `--auto-offer`; default consumer.
        package var role: MeterRole = .consumer
        /// Its own timeout, attempts and inter-frame delay on the bus; nil: the bus's options.
        package var timing: UnitTiming?

        package init(
            unit: UInt8,
            profile: String,
            key: String,
            role: MeterRole = .consumer,
            timing: UnitTiming? = nil
        ) {
            self.timing = timing
            self.unit = unit
            self.profile = profile
            self.key = key
            self.role = role
        }
    }

    package struct Bus: Sendable {
        package var address: BusAddress
        /// Serial settings given for this bus; the first meter's profile fills the rest.
        package var baud: Int?
        package var parity: Parity?
        package var dataBits: Int?
        package var stopBits: Int?
        package var meters: [Meter]

        package init(
            address: BusAddress,
            baud: Int? = nil,
            parity: Parity? = nil,
            dataBits: Int? = nil,
            stopBits: Int? = nil,
            meters: [Meter]
        ) {
            self.address = address
            self.baud = baud
            self.parity = parity
            self.dataBits = dataBits
            self.stopBits = stopBits
            self.meters = meters
        }
    }

    package var gateway: URL
    /// The gateway's id when given (`--gateway-id`, `gateway-id:`); else `GatewayAddressee`
    /// takes the recorded or learned one.
    package var gatewayID: GatewayID?
    package var data: String
    package var interval: Duration
    package var outboxLimit: Int
    package var buses: [Bus]
    /// The agent file's `mqtt:` block (paths absolute), if any; `--mqtt` replaces it.
    package var mqtt: MQTT?

    /// Where to publish readings for Home Assistant (docs/AGENT.md).
    package struct MQTT: Sendable, Equatable {
        package var url: String
        package var username: String?
        package var passwordFile: String?
        package var caFile: String?
        package var node: String?

        package init(
            url: String,
            username: String? = nil,
            passwordFile: String? = nil,
            caFile: String? = nil,
            node: String? = nil
        ) {
            self.url = url
            self.username = username
            self.passwordFile = passwordFile
            self.caFile = caFile
            self.node = node
        }
    }

    package init(
        gateway: URL,
        gatewayID: GatewayID? = nil,
        data: String,
        interval: Duration,
        outboxLimit: Int,
        buses: [Bus],
        mqtt: MQTT? = nil
    ) {
        self.gateway = gateway
        self.gatewayID = gatewayID
        self.data = data
        self.interval = interval
        self.outboxLimit = outboxLimit
        self.buses = buses
        self.mqtt = mqtt
    }
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

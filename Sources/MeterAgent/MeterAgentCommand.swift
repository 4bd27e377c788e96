import AgentCore
import ArgumentParser
import MeterEmulator

@main
struct MeterAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meter-agent",
        abstract: "Read smart meters over Modbus (RS-485 RTU or TCP) and emulate them.",
        discussion: """
            Start with `meter-agent ports` to find an RS-485 adapter, `meter-agent scan` to \
            find the meters on it, `meter-agent identify` to learn which profile fits one, and \
            `meter-agent read` to read it. `meter-agent emulate` \
            serves emulated meters for tests and demos. `meter-agent keygen` makes a meter's \
            signing key, and `meter-agent run` polls meters, signs every reading and forwards \
            it to the edge gateway (and, with --auto-offer, offers producers' export). \
            `meter-agent offer` and `meter-agent request` trade energy by hand. See \
            hardware/rs485.md for wiring.
            """,
        subcommands: [
            ReadCommand.self, RunCommand.self, OfferCommand.self, RequestCommand.self, ReadingsCommand.self,
            ReceiptCommand.self, KeygenCommand.self, EmulateCommand.self, ScanCommand.self, IdentifyCommand.self,
            PortsCommand.self, ProxyCommand.self,
        ]
    )
}

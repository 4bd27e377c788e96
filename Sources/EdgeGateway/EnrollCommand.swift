import ArgumentParser
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll a meter's public key on the chain (through the running server if there is one).",
        discussion:
            "Prints the gateway's id too: the meter's agent signs every reading for this gateway (meter-agent run --gateway-id ID)."
    )

    @OptionGroup var data: DataOption

    @Option(
        name: .customLong("meter-key"),
        help: ArgumentHelp("The meter's public key file (meter.key.pub).", valueName: "file.pub")
    )
    var meterKey: String

    @Option(help: "consumer or producer.")
    var role: String = "consumer"

    func validate() throws {
        guard Gateway.role(role) != nil else {
            throw ValidationError("--role must be consumer or producer, not '\(role)'")
        }
    }

    func run() async throws {
        let key: PublicIdentity
        do { key = try KeyFile.readPublicKey(from: meterKey) } catch { throw OperatorError(error.description) }
        let role = Gateway.role(role)!
        let line = KeyFile.publicKeyLine(key)
        let message = try await AdminClient.perform(
            data.directory,
            remote: { gateway, token throws(GridAPIError) in
                try await gateway.enroll(
                    AdminKeyRequest(publicKey: line, meter: nil, role: role.description),
                    token: token
                )
            },
            offline: { writer throws(AdminError) in
                try await writer.enroll(key, role: role)
            }
        )
        print(message)
        // The meter's agent signs each reading for this gateway only and needs its id.
        let gateway = try data.directory.loadPublicKey().id.hex
        print("gateway id   \(gateway) (meter-agent run --gateway-id \(gateway))")
    }
}

import ArgumentParser
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an enrolled meter (through the running server if there is one)."
    )

    @OptionGroup var data: DataOption

    @Option(name: .customLong("meter-key"), help: ArgumentHelp("The meter's public key file.", valueName: "file.pub"))
    var meterKey: String?

    @Option(help: ArgumentHelp("The meter id (32 hex digits), instead of --meter-key.", valueName: "id"))
    var meter: String?

    func validate() throws {
        guard (meterKey == nil) != (meter == nil) else {
            throw ValidationError("name the meter with exactly one of --meter-key FILE.pub or --meter ID")
        }
        if let meter, MeterID(hex: meter) == nil {
            throw ValidationError("--meter must be a meter id of 32 hex digits")
        }
    }

    func run() async throws {
        let id: MeterID
        if let meterKey {
            do { id = try KeyFile.readPublicKey(from: meterKey).id } catch { throw OperatorError(error.description) }
        } else {
            id = MeterID(hex: meter!)!
        }
        let message = try await AdminClient.perform(
            data.directory,
            remote: { gateway, token throws(GridAPIError) in
                try await gateway.revoke(AdminKeyRequest(publicKey: nil, meter: id.hex, role: nil), token: token)
            },
            offline: { writer throws(AdminError) in
                try await writer.revoke(id)
            }
        )
        print(message)
    }
}

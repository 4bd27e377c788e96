import ArgumentParser
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll meters' public keys on the chain (through the running server if there is one).",
        discussion: """
            Enrolls each key given with --meter-key, in order, all with --role, and prints one line \
            per meter. Every file is read first, so a missing or damaged one enrolls nothing; a \
            key the gateway refuses (already enrolled, say) stops the rest, and those before it \
            stay enrolled. For a fleet: meter-agent keygen --config agent.yaml, then
              edge-gateway enroll --data DIR --meter-key keys/consumer-*.pub
              edge-gateway enroll --data DIR --meter-key keys/producer-*.pub --role producer
            Prints the gateway's id too: the meters' agent signs every reading for this gateway \
            (meter-agent run --gateway-id ID).
            """
    )

    @OptionGroup var data: DataOption

    @Option(
        name: .customLong("meter-key"),
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "The meters' public key files (meter.key.pub); several at once enroll a fleet, e.g. --meter-key keys/producer-*.pub.",
            valueName: "file.pub"
        )
    )
    var meterKeys: [String] = []

    @Option(help: "consumer or producer.")
    var role: String = "consumer"

    func validate() throws {
        guard !meterKeys.isEmpty else { throw ValidationError("give the meters' public key files with --meter-key") }
        guard Gateway.role(role) != nil else {
            throw ValidationError("--role must be consumer or producer, not '\(role)'")
        }
    }

    func run() async throws {
        // Every file is read before anything is enrolled: a typo enrolls nothing.
        let keys = try meterKeys.map { path in
            do throws(KeyFileError) { return try KeyFile.readPublicKey(from: path) } catch {
                throw OperatorError(error.description)
            }
        }
        let role = Gateway.role(role)!
        try await AdminClient.perform(
            data.directory,
            count: keys.count,
            remote: { gateway, token, index throws(GridAPIError) in
                try await gateway.enroll(
                    AdminKeyRequest(publicKey: KeyFile.publicKeyLine(keys[index]), meter: nil, role: role.description),
                    token: token
                )
            },
            offline: { writer, index throws(AdminError) in
                try await writer.enroll(keys[index], role: role)
            },
            report: { print($0) }
        )
        // The meter's agent signs each reading for this gateway only and needs its id.
        let gateway = try data.directory.loadPublicKey().id.hex
        print("gateway id   \(gateway) (meter-agent run --gateway-id \(gateway))")
    }
}

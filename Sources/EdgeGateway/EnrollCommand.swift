import ArgumentParser
import Foundation
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
            Enrolls every key given with --meter-key, all with --role: a .pub file, a file of \
            many key lines (blank lines and # comments skipped), or a directory (its .pub \
            files). Every file is read first, so a missing or damaged one enrolls nothing. The \
            keys are enrolled together and sealed in as few blocks as --seal-size allows, all \
            or none: a key listed twice or a meter already enrolled enrolls nothing and is \
            named (through a running gateway, more than 5,000 keys go in parts of 5,000, each \
            all or none). One line per meter. For a fleet: meter-agent keygen --config agent.yaml, then
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
            "The meters' public keys: .pub files, files of key lines, or directories of .pub files; e.g. --meter-key keys/producer-*.pub.",
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
        let keys = try meterKeys.flatMap(Self.readKeys)
        let role = Gateway.role(role)!
        let lines = try await AdminClient.performMany(
            data.directory,
            remote: { gateway, token throws(GridAPIError) in
                if keys.count == 1 {
                    let response = try await AdminClient.patiently { () async throws(GridAPIError) in
                        try await gateway.enroll(
                            AdminKeyRequest(
                                publicKey: KeyFile.publicKeyLine(keys[0]),
                                meter: nil,
                                role: role.description
                            ),
                            token: token
                        )
                    }
                    return ["\(response.action) meter \(response.meter) as \(response.role)"]
                }
                var lines: [String] = []
                for start in stride(from: 0, to: keys.count, by: AdminEnrollmentsRequest.maxKeys) {
                    let part = keys[start..<min(keys.count, start + AdminEnrollmentsRequest.maxKeys)]
                    let request = AdminEnrollmentsRequest(
                        publicKeys: part.map { KeyFile.publicKeyLine($0) },
                        role: role.description
                    )
                    let response = try await AdminClient.patiently { () async throws(GridAPIError) in
                        try await gateway.enroll(many: request, token: token)
                    }
                    lines += response.meters.map { "\(response.action) meter \($0) as \(response.role)" }
                }
                return lines
            },
            offline: { writer throws(AdminError) in
                try await writer.enroll(keys, role: role).map(AdminClient.describe)
            }
        )
        for line in lines { print(line) }
        // The meter's agent signs each reading for this gateway only and needs its id.
        let gateway = try data.directory.loadPublicKey().id.hex
        print("gateway id   \(gateway) (meter-agent run --gateway-id \(gateway))")
    }

    /// The keys of a `.pub` file (one line, or many: a fleet's), or of every `.pub` file in a
    /// directory, in name order.
    static func readKeys(_ path: String) throws -> [PublicIdentity] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            do throws(KeyFileError) { return try KeyFile.readPublicKeys(from: path) } catch {
                throw OperatorError(error.description)
            }
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".pub") }.sorted()
        guard !names.isEmpty else { throw OperatorError("\(path) holds no .pub file") }
        return try names.flatMap { try readKeys(path + "/" + $0) }
    }
}

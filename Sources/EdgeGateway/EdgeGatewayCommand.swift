import ArgumentParser
import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import OperatorKit

@main
struct EdgeGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-gateway",
        abstract: "GridLedger edge gateway: ingest signed meter readings, seal them into a verifiable chain.",
        discussion: "Operations guide: docs/GATEWAY.md.",
        subcommands: [
            InitCommand.self, EnrollCommand.self, RevokeCommand.self, ServeCommand.self, InspectCommand.self,
            VerifyCommand.self,
            VerifyReceiptCommand.self,
        ]
    )
}

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The gateway's data directory.", valueName: "dir"))
    var data: String

    var directory: DataDirectory { DataDirectory(data) }
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a data directory: gateway key pair, admin token and an empty chain store."
    )

    @OptionGroup var data: DataOption

    func run() async throws {
        let dir = data.directory
        let key = try dir.initialise()
        print("initialised \(dir.path)")
        print("gateway id   \(key.id.hex)")
        print("public key   \(dir.publicKeyPath)")
        print("admin token  \(dir.tokenPath) (mode 0600)")
        print("chain store  \(dir.chainPath)")
        print(
            "next: edge-gateway enroll --data \(dir.path) --meter-key METER.pub, then edge-gateway serve --data \(dir.path)"
        )
    }
}

/// Enroll and revoke: append directly when no server holds the directory's lock, else
/// ask the running server through its admin endpoint.
enum AdminClient {
    static func perform(
        _ dir: DataDirectory,
        remote: (GatewayClient, _ token: String) async throws(GridAPIError) -> AdminResponse,
        offline: (ChainWriter) async throws(AdminError) -> SignedRecord
    ) async throws -> String {
        try dir.requireInitialised()
        if let lock = try DirectoryLock(path: dir.lockPath) {
            var logger = Logger(label: "edge-gateway")
            logger.logLevel = .warning
            let gateway = try await Gateway.open(directory: dir, logger: logger)
            let entry: SignedRecord
            do { entry = try await offline(gateway.writer) } catch {
                await gateway.shutdown()
                throw OperatorError(error.description)
            }
            await gateway.writer.sealNow()
            await gateway.shutdown()
            withExtendedLifetime(lock) {}
            return describe(entry) + " (written directly to \(dir.chainPath))"
        }
        guard let url = dir.urlFile.read() else {
            throw OperatorError(
                "a gateway holds \(dir.lockPath) but wrote no \(dir.urlPath); wait until it has started, or stop it and run this again"
            )
        }
        let token = try dir.loadToken()
        guard let base = URL(string: url) else {
            throw OperatorError("\(dir.urlPath) holds '\(url)', which is not a URL; restart `edge-gateway serve`")
        }
        do throws(GridAPIError) {
            let response = try await remote(GatewayClient(base: base), token)
            return
                "\(response.action) meter \(response.meter) as \(response.role) (through the running gateway at \(url))"
        } catch .transport(let called, let error) {
            throw OperatorError(
                "cannot reach the running gateway at \(called): \(error); check that `edge-gateway serve` is up"
            )
        } catch {
            let message = (try? JSONDecoder().decode(ErrorView.self, from: error.body ?? Data()))?.error
            throw OperatorError(
                "the gateway at \(url) refused: \(message ?? error.bodyText) (HTTP \(error.status ?? 0))"
            )
        }
    }

    static func describe(_ entry: SignedRecord) -> String {
        switch entry.record {
        case let .enrollment(e): return "enrolled meter \(e.meter.hex) as \(e.role)"
        case let .revocation(r): return "revoked meter \(r.meter.hex) (\(r.role))"
        default: return "wrote \(entry.record.type)"
        }
    }
}

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll a meter's public key on the chain (through the running server if there is one)."
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
    }
}

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

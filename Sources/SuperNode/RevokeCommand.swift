import ArgumentParser
import LedgerLite
import SuperNodeCore

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a gateway's certificates (--gateway) or one certificate (--serial).",
        discussion:
            "Takes effect at once, also for a running `serve` on the same directory: the next push with a revoked certificate is refused (revoked-certificate)."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("A gateway id (32 hex digits): revoke all its certificates.", valueName: "id"))
    var gateway: String?

    @Option(help: ArgumentHelp("A certificate serial: revoke that certificate.", valueName: "n"))
    var serial: UInt64?

    func validate() throws {
        guard (gateway == nil) != (serial == nil) else {
            throw ValidationError("name what to revoke with exactly one of --gateway ID or --serial N")
        }
        if let gateway, GatewayID(hex: gateway) == nil {
            throw ValidationError("--gateway must be a gateway id of 32 hex digits")
        }
    }

    func run() async throws {
        let store = try await data.directory.openStore()
        let target: Authority.Target = serial.map { .serial($0) } ?? .gateway(GatewayID(hex: gateway!)!)
        for row in try await Authority.revoke(store: store, target, now: Timestamps.now()) {
            print(
                "revoked certificate serial \(row.certificate.serial) of gateway \(row.certificate.gateway.hex) (\"\(row.certificate.name)\")"
            )
        }
    }
}

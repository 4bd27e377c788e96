import ArgumentParser
import OperatorKit

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create a data directory: the root key pair (root.key, mode 0600, and root.key.pub), a TLS key and certificate, and an empty authority store (with --store, the schema in that PostgreSQL database).",
        discussion:
            "Refuses a directory that is already initialised: a new root key would invalidate every certificate issued. The TLS certificate (DIR/tls.crt, with its key DIR/tls.key) is self-signed for the --hostname names unless --tls-cert/--tls-key bring the operator's; `serve --tls` presents it. Replace it later with `super-node tls-certificate`."
    )

    @OptionGroup var data: DataOption
    @OptionGroup(title: "TLS certificate") var certificate: CertificateOptions

    func run() async throws {
        let dir = data.directory
        try certificate.checkOperatorFiles()
        let key = try await dir.initialise()
        print("initialised \(dir.path)")
        print("root id      \(key.id.hex)")
        print("public key   \(dir.publicKeyPath) (give it to whoever checks certificates and checkpoints)")
        print("store        \(dir.storeLocation)")
        for line in try certificate.write(into: dir.directory, subject: "GridLedger super node") { print(line) }
        print("next: super-node certify --data \(dir.path) --gateway-key GATEWAY/gateway.key.pub --name NAME")
    }
}

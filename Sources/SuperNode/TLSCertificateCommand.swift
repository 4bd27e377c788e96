import ArgumentParser
import OperatorKit

struct TLSCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-certificate",
        abstract: "Replace the super node's TLS key and certificate (DIR/tls.key, DIR/tls.crt): rotation, new names.",
        discussion:
            "Makes a fresh ECDSA P-256 key and a self-signed certificate for the --hostname names, or installs --tls-cert/--tls-key. A running super node keeps the old one until restarted. Its fingerprint changes: restart every gateway that pinned the old one with the new --super-node-fingerprint (or --super-node-ca with the new tls.crt)."
    )

    @OptionGroup var data: DataOption
    @OptionGroup var certificate: CertificateOptions

    func run() async throws {
        let dir = data.directory
        try dir.requireInitialised()
        for line in try certificate.write(into: dir.directory, subject: "GridLedger super node") { print(line) }
        print("next: restart `super-node serve --tls`; gateways that pinned the old fingerprint need the new one")
    }
}

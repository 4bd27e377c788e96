import ArgumentParser
import OperatorKit

struct TLSCertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-certificate",
        abstract: "Replace the gateway's TLS key and certificate (DIR/tls.key, DIR/tls.crt): rotation, new names.",
        discussion:
            "Makes a fresh ECDSA P-256 key and a self-signed certificate for the --hostname names, or installs --tls-cert/--tls-key. A running gateway keeps the old one until restarted. Its fingerprint changes: give agents and super nodes that pinned the old one the new fingerprint (or the new tls.crt as CA file) when you restart."
    )

    @OptionGroup var data: DataOption
    @OptionGroup var certificate: CertificateOptions

    func run() async throws {
        let dir = data.directory
        try dir.requireInitialised()
        for line in try certificate.write(into: dir.directory, subject: "GridLedger edge gateway") { print(line) }
        print("next: restart `edge-gateway serve --tls`; clients that pinned the old fingerprint need the new one")
    }
}

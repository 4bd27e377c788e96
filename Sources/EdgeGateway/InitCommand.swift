import ArgumentParser
import OperatorKit

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create a data directory: gateway key pair, admin token, TLS key and certificate, and an empty chain store.",
        discussion:
            "The TLS certificate (DIR/tls.crt, with its key DIR/tls.key) is self-signed for the --hostname names unless --tls-cert/--tls-key bring the operator's; `serve --tls` presents it. Replace it later with `edge-gateway tls-certificate`."
    )

    @OptionGroup var data: DataOption
    @OptionGroup(title: "TLS certificate") var certificate: CertificateOptions

    func run() async throws {
        let dir = data.directory
        try certificate.checkOperatorFiles()
        let key = try dir.initialise()
        print("initialised \(dir.path)")
        print("gateway id   \(key.id.hex)")
        print("public key   \(dir.publicKeyPath)")
        print("admin token  \(dir.tokenPath) (mode 0600)")
        print("chain store  \(dir.chainPath)")
        for line in try certificate.write(into: dir.directory, subject: "GridLedger edge gateway") { print(line) }
        print(
            "next: edge-gateway enroll --data \(dir.path) --meter-key METER.pub, then edge-gateway serve --data \(dir.path)"
        )
    }
}

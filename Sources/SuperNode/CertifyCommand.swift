import ArgumentParser
import Foundation
import LedgerLite
import LedgerStore
import OperatorKit
import SuperNodeCore

struct CertifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Issue a certificate for a gateway's public key, record it, and print its serial.",
        discussion:
            "The certificate file goes to --out (default: NAME.cert in the current directory, refused if it exists). A gateway that already holds an unrevoked certificate is refused."
    )

    @OptionGroup var data: DataOption

    @Option(
        name: .customLong("gateway-key"),
        help: ArgumentHelp(
            "The gateway's public key file (DIR/gateway.key.pub of `edge-gateway init`).",
            valueName: "file.pub"
        )
    )
    var gatewayKey: String

    @Option(
        help: ArgumentHelp(
            "A name for the gateway (1 to 128 bytes of UTF-8, no control characters).",
            valueName: "name"
        )
    )
    var name: String

    @Option(help: ArgumentHelp("Where to write the certificate file.", valueName: "file"))
    var out: String?

    @Option(
        name: .customLong("gateway-tls-cert"),
        help: ArgumentHelp(
            "Pin the gateway's TLS certificate (its DIR/tls.crt): `serve --tls` then asks the gateway for it on every push and escalation (mutual TLS), and trusts it when calling the gateway. Run certify again to pin another one after the gateway's `tls-certificate`.",
            valueName: "file.pem"
        )
    )
    var gatewayTLSCert: String?

    func validate() throws {
        do {
            try GatewayCertificate.checkName(Array(name.utf8))
        } catch {
            throw ValidationError(
                "--name '\(name)' is not acceptable: \(error) (use 1 to \(GatewayCertificate.maxNameBytes) bytes of UTF-8 without control characters)"
            )
        }
    }

    var outputPath: String {
        out ?? (name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? String($0) : "-" }.joined() + ".cert")
    }

    func run() async throws {
        let dir = data.directory
        let root = try dir.loadKey()
        let key: PublicIdentity
        do { key = try KeyFile.readPublicKey(from: gatewayKey) } catch { throw OperatorError(error.description) }
        let path = outputPath
        guard !FileManager.default.fileExists(atPath: path) else {
            throw OperatorError("\(path) already exists; refusing to overwrite it (choose another --out)")
        }
        let store = try await dir.openStore()
        let signed = try await Authority.certify(
            store: store,
            root: root,
            gatewayKey: key,
            name: name,
            now: Timestamps.now()
        )
        guard FileManager.default.createFile(atPath: path, contents: Data(signed.fileText.utf8)) else {
            throw OperatorError(
                "certificate serial \(signed.certificate.serial) is recorded, but \(path) could not be written; check the directory is writable, then revoke serial \(signed.certificate.serial) and certify again"
            )
        }
        print("certified gateway \(key.id.hex) (\"\(name)\") serial \(signed.certificate.serial)")
        print("certificate  \(path)")
        if let gatewayTLSCert {
            let fingerprint = try GatewayTLSPins(dir).pin(certificateFile: gatewayTLSCert, gateway: key.id)
            print("tls pinned   \(fingerprint) (the gateway must present it to `serve --tls`)")
        }
    }
}

import AgentCore
import ArgumentParser
import Foundation
import LedgerLite
import LedgerStore
import MeterEmulator
import OperatorKit

/// `meter-agent keygen`: a meter's signing key pair.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a meter's Ed25519 key pair and print its meter id.",
        discussion: """
            Writes the private key to --out with mode 0600 and the public key to --out.pub \
            (one line: `ed25519 <base64> [comment]`). Enroll the .pub file with the gateway:
              edge-gateway enroll --data DIR --meter-key meter.key.pub --role consumer
            """
    )

    @Option(name: .long, help: "Private key file to write; the public key goes to FILE.pub.")
    var out: String

    @Option(name: .long, help: "A comment for the public key line, e.g. the meter's location.")
    var comment: String?

    @Flag(name: .long, help: "Replace existing key files (the old key is lost).")
    var force = false

    func run() throws {
        let identity = SigningIdentity()
        // Check both files first: never leave a new private key beside an old public one.
        for path in [out, out + ".pub"] where !force && FileManager.default.fileExists(atPath: path) {
            throw OperatorError(
                "\(path) exists; pass --force to replace the key pair (the old key is lost) or choose another --out"
            )
        }
        do {
            try KeyFile.writePrivateKey(identity, to: out, overwrite: force)
            try KeyFile.writePublicKey(identity.publicIdentity, to: out + ".pub", comment: comment, overwrite: force)
        } catch {
            throw OperatorError("\(error)")
        }
        print("meter id \(identity.id.hex)")
        print("private key \(out) (mode 0600), public key \(out).pub")
    }
}

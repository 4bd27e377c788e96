import AgentCore
import ArgumentParser
import Crypto
import Foundation
import LedgerLite
import LedgerStore
import MeterEmulator
import OperatorKit
import PrivateFiles

/// `meter-agent keygen`: a meter's signing key pair, or every key pair an agent file names.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a meter's Ed25519 key pair (or a fleet's) and print its meter id.",
        discussion: """
            Writes the private key to --out with mode 0600 and the public key to --out.pub \
            (one line: `ed25519 <base64> [comment]`). Enroll the .pub file with the gateway:
              edge-gateway enroll --data DIR --meter-key meter.key.pub --role consumer

            A fleet: --config agent.yaml creates the key pair of every meter the agent file \
            names (key: keys/{role}-bus{bus}-{unit}.key names a thousand at once, see \
            docs/AGENT.md) and keeps the pairs that already exist. Then enroll them in bulk:
              edge-gateway enroll --data DIR --meter-key keys/consumer-*.pub
              edge-gateway enroll --data DIR --meter-key keys/producer-*.pub --role producer

            --ocmf also gives each meter a P-256 key for signed OCMF documents (OCMF allows \
            only ECDSA): FILE.ocmf (mode 0600) and FILE.ocmf.pub (hex of the DER \
            SubjectPublicKeyInfo, the form OCMF tools take), keeping an Ed25519 pair that \
            exists. `meter-agent run` then signs one OCMF document per settlement period for \
            that meter. Not a certified measuring instrument: the documents are not \
            conformant with calibration law (docs/SECURITY.md).
            """
    )

    @Option(name: .long, help: "Private key file to write; the public key goes to FILE.pub.")
    var out: String?

    @Option(name: .long, help: "An agent file: create the key pair of every meter it names.")
    var config: String?

    @Option(name: .long, help: "A comment for the public key line, e.g. the meter's location.")
    var comment: String?

    @Flag(name: .long, help: "Replace existing key files (the old keys are lost).")
    var force = false

    @Flag(name: .long, help: "Also create the meter's P-256 OCMF key pair (FILE.ocmf, FILE.ocmf.pub).")
    var ocmf = false

    func validate() throws {
        guard (out == nil) != (config == nil) else {
            throw ValidationError("give --out FILE (one meter) or --config agent.yaml (every meter it names)")
        }
    }

    func run() throws {
        if let out {
            let files = KeyPairFiles(privateKey: out)
            if ocmf, !force, try files.existing() {
                print("meter key \(out) kept")
            } else {
                let identity = try files.create(comment: comment, force: force)
                print("meter id \(identity.id.hex)")
                print("private key \(out) (mode 0600), public key \(out).pub")
            }
            if ocmf { try createOCMFKey(for: out) }
            return
        }
        let agent = try AgentFile.load(path: config!)
        var created = 0
        var kept = 0
        for bus in agent.buses {
            for meter in bus.meters {
                let files = KeyPairFiles(privateKey: meter.key)
                if !force, try files.existing() {
                    kept += 1
                } else {
                    let identity = try files.create(
                        comment: comment ?? "unit \(meter.unit) \(meter.role)",
                        force: force
                    )
                    print("meter id \(identity.id.hex) \(meter.role) unit \(meter.unit) \(meter.key)")
                    created += 1
                }
                let ocmfKey = OCMFKeyPaths(meterKey: meter.key).privateKey
                if ocmf, force || !FileManager.default.fileExists(atPath: ocmfKey) { try createOCMFKey(for: meter.key) }
            }
        }
        print("created \(created) key pairs, kept \(kept) that existed")
    }

    /// Writes a new P-256 OCMF key pair beside `meterKey` and prints its public key.
    func createOCMFKey(for meterKey: String) throws {
        let paths = OCMFKeyPaths(meterKey: meterKey)
        for path in [paths.privateKey, paths.publicKey] where !force && FileManager.default.fileExists(atPath: path) {
            throw OperatorError("\(path) exists; pass --force to replace the OCMF key pair (the old key is lost)")
        }
        let key = P256.Signing.PrivateKey()
        do {
            try OCMFKeyFile.writePrivateKey(key, to: paths.privateKey, overwrite: force)
            try OCMFKeyFile.writePublicKey(key.publicKey, to: paths.publicKey, overwrite: force)
        } catch {
            throw OperatorError("\(error)")
        }
        print("OCMF key \(paths.privateKey) (mode 0600), public key \(paths.publicKey):")
        print("  \(OCMFKeyFile.publicKeyHex(key.publicKey))")
    }
}

/// A meter's private key file and its `.pub` beside it.
struct KeyPairFiles {
    let privateKey: String
    var publicKey: String { privateKey + ".pub" }

    /// True when both files exist, false when neither does; throws when only one does, which
    /// would leave a public key that matches no private key (or the reverse).
    func existing() throws -> Bool {
        let manager = FileManager.default
        switch (manager.fileExists(atPath: privateKey), manager.fileExists(atPath: publicKey)) {
        case (true, true): return true
        case (false, false): return false
        case (true, false):
            throw OperatorError("\(privateKey) exists without \(publicKey); pass --force to replace the pair")
        case (false, true):
            throw OperatorError("\(publicKey) exists without \(privateKey); pass --force to replace the pair")
        }
    }

    /// A new key pair written to both files; without `force`, neither may exist.
    func create(comment: String?, force: Bool) throws -> SigningIdentity {
        // Check both files first: never leave a new private key beside an old public one.
        for path in [privateKey, publicKey] where !force && FileManager.default.fileExists(atPath: path) {
            throw OperatorError(
                "\(path) exists; pass --force to replace the key pair (the old key is lost) or choose another --out"
            )
        }
        let directory = URL(fileURLWithPath: privateKey).deletingLastPathComponent().path
        // Directories made for keys are the user's alone (those that exist are left as they are).
        do throws(PrivateDirectoryError) { try PrivateDirectory.create(directory) } catch {
            throw OperatorError("cannot create \(directory) for \(privateKey): \(error)")
        }
        let identity = SigningIdentity()
        do {
            try KeyFile.writePrivateKey(identity, to: privateKey, overwrite: force)
            try KeyFile.writePublicKey(identity.publicIdentity, to: publicKey, comment: comment, overwrite: force)
        } catch {
            throw OperatorError("\(error)")
        }
        return identity
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import LedgerStore
import OperatorKit

struct VerifyReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-receipt",
        abstract:
            "Check a reading's receipt offline: Merkle proof, gateway signature, and the super node's checkpoint under its root key.",
        discussion: """
            FILE is the output of `edge-gateway inspect receipt METER SEQ --json` (or GET /v1/readings/{meter}/{seq}/receipt); - reads standard input. Needs no data directory.
            Checks: (1) the record's Merkle proof leads to the block header's merkle root; (2) the header's signature verifies under the gateway key in the receipt; (3) the checkpoint is signed by the root key in --root-key and names that block (gateway id, height, block hash, merkle root, tree size).
            Exit status: 0 all checks hold; 2 a check failed (the line says which); 3 the receipt is otherwise sound but carries no checkpoint (the block was not checkpointed yet).
            """
    )

    @Argument(help: ArgumentHelp("The receipt JSON file, or - for standard input.", valueName: "file"))
    var file: String

    @Option(
        name: .customLong("root-key"),
        help: ArgumentHelp(
            "The super node's root public key (root.key.pub, or the gateway's super-node-root.pub), obtained out of band.",
            valueName: "file.pub"
        )
    )
    var rootKey: String

    func run() async throws {
        let root: PublicIdentity
        do { root = try KeyFile.readPublicKey(from: rootKey) } catch { throw OperatorError("--root-key: \(error)") }
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw OperatorError(
                    "cannot read the receipt file \(file); pass the output of `edge-gateway inspect receipt METER SEQ --json` (or - for standard input)"
                )
            }
            data = contents
        }
        do throws(ReceiptFailure) {
            try ReceiptVerifier.verify(data, rootKey: root) { print("ok  " + $0) }
            print("receipt verified")
        } catch {
            var stderr = StandardError()
            print("receipt verification FAILED: \(error.description)", to: &stderr)
            if case .missingCheckpoint = error { throw ExitCode(3) }
            throw ExitCode(2)
        }
    }
}

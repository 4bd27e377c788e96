import ArgumentParser
import Foundation
import GatewayCore
import OperatorKit

/// `edge-gateway backup`: an online copy of the data directory.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the data directory while the gateway runs (or not): keys, token, chain, journal, checkpoints.",
        discussion: """
            Writes --out, a new directory (mode 0700) that is itself a data directory: the key \
            files and admin token, and consistent copies of chain.sqlite, pending.sqlite and \
            checkpoints.sqlite made with SQLite's backup API, which reads a live database without \
            stopping the gateway. The journal is copied before the chain, so an entry is in one \
            copy or both, never in neither; readings accepted while the backup runs may be in \
            neither, as after a crash at its start (agents send them again). The copy is checked \
            (every block's Merkle root, the journal) before the command reports it; it is built in \
            OUT.partial and renamed to OUT only then, so a killed backup never leaves OUT. It copies \
            the live store, not archive segments (`edge-gateway archive`): keep those beside it.
            It holds the gateway's private key: keep it as you keep gateway.key.

            Restore: stop the gateway, move the data directory aside, copy the backup in its \
            place (cp -a BACKUP DIR), run `edge-gateway verify --data DIR`, start the gateway.
            """
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("The backup directory to create (must not exist).", valueName: "dir"))
    var out: String

    func run() throws {
        let summary: GatewayBackup.Summary
        do {
            summary = try GatewayBackup.write(from: data.directory, to: out)
        } catch let error as BackupError {
            throw OperatorError(error.description)
        }
        print(
            "backup \(out): \(summary.blocks) blocks, \(summary.entries) entries, \(summary.pending) pending, \(summary.bytes) bytes"
        )
        print("files: \(summary.files.joined(separator: ", "))")
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import LedgerStore
import OperatorKit

/// `edge-gateway verify-archive DIR`: the segments checked offline, without a data directory.
struct VerifyArchiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-archive",
        abstract: "Verify archive segments offline: file hashes, every block and entry, and that they form one chain.",
        discussion: """
            Needs no data directory. Each segment-*.glseg in DIR is checked on its own (SHA-256, \
            format, the blocks replayed from the state it starts with: signatures, links, Merkle \
            roots, state digests), then the segments together (each starts where the one before \
            ends, from block 0). Trusts --gateway-key (gateway.key.pub) when given, otherwise the \
            key the first segment names. --entry N also prints entry N's inclusion proof in its \
            block's signed Merkle root, computed from the segment and checked.
            Exit status: 0 all hold; 2 a segment was refused (the line says which and why).
            """
    )

    @Argument(help: ArgumentHelp("The archive directory.", valueName: "dir"))
    var directory: String

    @Option(
        name: .customLong("gateway-key"),
        help: ArgumentHelp("The gateway's public key file (gateway.key.pub), obtained out of band.", valueName: "file")
    )
    var gatewayKey: String?

    @Option(help: ArgumentHelp("Also prove the inclusion of the entry with this global index.", valueName: "index"))
    var entry: UInt64?

    func run() throws {
        var key: PublicIdentity?
        if let gatewayKey {
            do { key = try KeyFile.readPublicKey(from: gatewayKey) } catch {
                throw OperatorError("--gateway-key: \(error)")
            }
        }
        let archive = ArchiveDirectory(directory)
        let report: ArchiveDirectory.Report
        do {
            report = try archive.verifyAll(gatewayKey: key) { checked in
                print(
                    "ok  \(checked.name): blocks \(checked.summary.firstHeight)–\(checked.summary.lastHeight), entries \(checked.summary.firstIndex)–\(checked.summary.endIndex - 1), \(checked.bytes) bytes"
                )
            }
        } catch let error as ArchiveError {
            var stderr = StandardError()
            print("archive verification FAILED: \(error.description)", to: &stderr)
            throw ExitCode(2)
        }
        guard !report.segments.isEmpty else {
            throw OperatorError("\(directory) holds no archive segments (segment-*.glseg)")
        }
        print("archive OK: \(report.segments.count) segments, blocks 0–\(report.blocks - 1), \(report.entries) entries")
        if let entry {
            guard
                let name = report.segments.first(where: {
                    entry >= $0.summary.firstIndex && entry < $0.summary.endIndex
                })?.name
            else {
                throw OperatorError("entry \(entry) is not in this archive (it holds entries 0–\(report.entries - 1))")
            }
            let (segment, _) = try archive.check(name, gatewayKey: key)
            guard let found = try segment.inclusion(ofEntry: entry),
                found.proof.verify(leafHash: found.entry.leafHash, root: found.block.header.header.merkleRoot)
            else {
                var stderr = StandardError()
                print("entry \(entry): its inclusion proof does not verify", to: &stderr)
                throw ExitCode(2)
            }
            print("entry \(entry) in block \(found.block.height) of \(name) (block hash \(found.block.hash.hex))")
            print("  record     \(Data(found.entry.bytes).base64EncodedString())")
            print("  leaf hash  \(found.entry.leafHash.hex)")
            print("  root       \(found.block.header.header.merkleRoot.hex) (tree size \(found.proof.treeSize))")
            print("  proof      \(found.proof.path.map(\.hex).joined(separator: " "))")
            print("inclusion proof verified against the block's signed Merkle root")
        }
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import OperatorKit

/// `edge-gateway archive`: sealed, checkpointed blocks into segment files; their readings
/// pruned from the live store.
struct ArchiveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Move sealed, checkpointed blocks older than --before into verified segment files and prune them.",
        discussion: """
            Runs beside a running gateway (or a stopped one). Archives the blocks after the last \
            archived one that ended before --before, are covered by a super-node checkpoint (or \
            any, with --uncheckpointed) and precede the gateway's resume snapshot. Each segment \
            (segment-FIRST-LAST.glseg in --out: the blocks' exact signed bytes, the chain state \
            at its start, zlib-compressed, SHA-256 at its end) is verified from the chain, written \
            with fsync and a rename, read back and verified again; only then are its readings \
            pruned from chain.sqlite, in one transaction per segment. Block headers, Merkle nodes, \
            non-reading entries and each meter's latest reading stay, with a digest of every \
            pruned reading (duplicates of pruned readings are still told from equivocations).
            Safe to kill at any point: run it again; a segment written but not recorded is \
            verified and reused. Check segments offline with `edge-gateway verify-archive DIR`; \
            keep them as you keep backups (docs/OPERATIONS.md, "Archive and pruning").
            """
    )

    @OptionGroup var data: DataOption

    @Option(
        help: ArgumentHelp(
            "Archive blocks that ended before this time: a date (2026-06-01, midnight UTC) or an ISO 8601 time with a zone.",
            valueName: "time"
        )
    )
    var before: CutoffArgument

    @Option(
        help: ArgumentHelp("The archive directory (created if missing; segments are added to it).", valueName: "dir")
    )
    var out: String

    @Flag(help: "Archive blocks no super-node checkpoint covers (a gateway without a super node).")
    var uncheckpointed = false

    @Option(help: ArgumentHelp("Entries per segment, about (whole blocks).", valueName: "n"))
    var segmentEntries = 50_000

    func validate() throws {
        guard segmentEntries > 0 else { throw ValidationError("--segment-entries must be at least 1") }
    }

    func run() throws {
        let summary: GatewayArchive.Summary
        do {
            summary = try GatewayArchive.run(
                data.directory,
                options: .init(
                    before: before.milliseconds,
                    outDirectory: out,
                    uncheckpointed: uncheckpointed,
                    segmentEntries: segmentEntries
                )
            )
        } catch let error as ArchiveError {
            throw OperatorError(error.description)
        }
        for segment in summary.segments {
            print(
                "\(segment.reused ? "reused " : "wrote  ") \(segment.name): blocks \(segment.blocks.lowerBound)–\(segment.blocks.upperBound), \(segment.bytes) bytes"
            )
        }
        let boundary = summary.boundary.map { "blocks 0–\($0) are archived" } ?? "nothing is archived"
        print(
            "archive \(out): \(summary.segments.count) segments recorded, \(summary.entries) entries, \(summary.prunedReadings) readings pruned; \(boundary); limited by \(summary.limit)"
        )
    }
}

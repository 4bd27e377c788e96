import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import LedgerStore
import OperatorKit

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Verify the whole chain (signatures, links, Merkle roots, sequences, TNT replay), then the resume snapshot against it; exit non-zero at the first failure.",
        discussion: """
            On a store pruned by `edge-gateway archive`, the live part is verified from the archive \
            boundary (the state after the last archived block, checked against that block's signed \
            header); --archive DIR also verifies the segments and that they end exactly at the \
            boundary, so the whole chain is checked from block 0.
            """
    )

    @OptionGroup var data: DataOption

    @Option(
        help: ArgumentHelp(
            "The archive directory of `edge-gateway archive`: verify the archived blocks too, end to end.",
            valueName: "dir"
        )
    )
    var archive: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Summary: Codable {
        var ok: Bool
        var blocks: UInt64
        var entries: UInt64
        var meters: Int
        var readings: UInt64?
        var pendingInJournal: Int
        var tipHash: String?
        /// Blocks moved into archive segments (0 when none): the live part starts after them.
        var archivedBlocks: UInt64 = 0
        /// Segments the store records.
        var archiveSegments: Int = 0
        /// True when --archive was given and its segments verified up to the boundary.
        var archiveVerified: Bool?
        /// The stored resume snapshot: "block N" when it matches the replayed chain, "none"
        /// for a store written before them, "differs" when the blocks verify but it does not
        /// match them (`failure` says how); nil when the chain failed.
        var resumeSnapshot: String?
        var failure: Failure?

        struct Failure: Codable {
            var height: UInt64
            var entryIndex: UInt64?
            var problem: String
        }
    }

    /// Verifies the chain of `directory`; a failure is returned in the summary, not thrown.
    static func check(_ directory: DataDirectory, archive: String? = nil) throws -> Summary {
        let chain = try ReadOnlyChain(directory)
        let verifier = ChainVerifier(gatewayKey: chain.gatewayKey)
        do {
            // Every read below sees one state of the store: an `archive` pruning, or the
            // gateway sealing, meanwhile changes nothing under the check.
            let store = try chain.store.frozen()
            let verified = try verifier.verify(store)
            var summary = Summary(
                ok: true,
                blocks: verified.firstHeight + verified.blockCount,
                entries: verified.tree.size,
                meters: verified.state.tnt.meterCount,
                pendingInJournal: chain.journalCount(),
                tipHash: verified.tip?.hash.hex
            )
            summary.archivedBlocks = verified.firstHeight
            let recorded = try store.archivedSegments()
            summary.archiveSegments = recorded.count
            if let archive {
                if let problem = try checkArchive(
                    archive,
                    recorded: recorded,
                    store: store,
                    gatewayKey: chain.gatewayKey
                ) {
                    summary.ok = false
                    summary.archiveVerified = false
                    summary.failure = .init(height: verified.firstHeight, entryIndex: nil, problem: problem)
                    return summary
                }
                summary.archiveVerified = true
            }
            switch try ChainWriter.checkResumeSnapshot(store: store, verified: verified) {
            case .missing: summary.resumeSnapshot = "none"
            case let .matches(height): summary.resumeSnapshot = "block \(height)"
            case let .differs(problem):
                summary.ok = false
                summary.resumeSnapshot = "differs"
                summary.failure = .init(
                    height: verified.tip?.height ?? 0,
                    entryIndex: nil,
                    problem: problem
                )
            }
            return summary
        } catch let failure as VerificationFailure {
            return Summary(
                ok: false,
                blocks: failure.height,
                entries: 0,
                meters: 0,
                pendingInJournal: chain.journalCount(),
                tipHash: nil,
                failure: .init(
                    height: failure.height,
                    entryIndex: failure.entryIndex,
                    problem: failure.problem.description
                )
            )
        } catch {
            throw OperatorError("cannot read the chain store \(directory.chainPath): \(error)")
        }
    }

    /// Verifies the segments in `path` as one chain from block 0 and that they are the ones
    /// the store recorded, ending at its archive boundary; what is wrong, nil when nothing.
    static func checkArchive(
        _ path: String,
        recorded: [ChainStore.ArchivedSegmentRow],
        store: ChainStore,
        gatewayKey: PublicIdentity
    ) throws -> String? {
        let report: ArchiveDirectory.Report
        do { report = try ArchiveDirectory(path).verifyAll(gatewayKey: gatewayKey) } catch let error
            as ArchiveError
        {
            return "the archive \(path) does not verify: \(error.description)"
        }
        for row in recorded {
            guard let found = report.segments.first(where: { $0.name == row.name }) else {
                return
                    "segment \(row.name) (blocks \(row.firstHeight)–\(row.lastHeight)) is recorded in the store but missing from \(path)"
            }
            guard found.summary.fileHash == row.fileHash else {
                return "segment \(row.name) in \(path) is not the file the store recorded (its SHA-256 differs)"
            }
        }
        guard let prefix = try store.archivedPrefix() else { return nil }
        let boundary = prefix.header.header.height
        guard let last = report.segments.first(where: { $0.summary.lastHeight == boundary }) else {
            return "no segment in \(path) ends at the archive boundary, block \(boundary)"
        }
        guard last.endSnapshot == ArchiveDirectory.encode(prefix.snapshot) else {
            return "the state after segment \(last.name) differs from the live store's archive boundary"
        }
        return nil
    }

    func run() async throws {
        let summary = try Self.check(data.directory, archive: archive)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        }
        if let failure = summary.failure {
            if !json {
                var stderr = StandardError()
                print(
                    "verification FAILED at block \(failure.height)"
                        + (failure.entryIndex.map { ", entry \($0)" } ?? "") + ": \(failure.problem)",
                    to: &stderr
                )
                if summary.archiveVerified == false {
                    print("the archive or the live store was altered, or --archive names another archive", to: &stderr)
                } else if summary.resumeSnapshot == "differs" {
                    print(
                        "every block of \(data.directory.chainPath) verifies, but its resume snapshot does not match them; with the gateway stopped, delete it (sqlite3 \(data.directory.chainPath) 'DELETE FROM resume_snapshot') and start the gateway: it verifies the chain once and writes a new one",
                        to: &stderr
                    )
                } else {
                    print(
                        "the chain store \(data.directory.chainPath) was altered or damaged after it was written; restore it from a copy",
                        to: &stderr
                    )
                }
            }
            throw ExitCode(2)
        }
        if !json {
            let archived =
                summary.archivedBlocks == 0
                ? ""
                : " (blocks 0–\(summary.archivedBlocks - 1) archived in \(summary.archiveSegments) segments: "
                    + (summary.archiveVerified == true
                        ? "verified from the archive, end to end)"
                        : "verified from the archive boundary on; add --archive DIR to replay them too)")
            print(
                "chain OK: \(summary.blocks) blocks\(archived), \(summary.entries) entries, \(summary.meters) meters enrolled"
                    + (summary.tipHash.map { ", tip \($0)" } ?? "")
                    + (summary.resumeSnapshot.map {
                        $0 == "none"
                            ? "; no resume snapshot yet (the next start-up writes one)"
                            : "; resume snapshot after \($0) matches"
                    } ?? "")
                    + (summary.pendingInJournal > 0
                        ? "; \(summary.pendingInJournal) acknowledged entries wait in the journal for the next seal"
                        : "")
            )
        }
    }
}

import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import OperatorKit

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Verify the whole chain (signatures, links, Merkle roots, sequences, TNT replay), then the resume snapshot against it; exit non-zero at the first failure."
    )

    @OptionGroup var data: DataOption

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
    static func check(_ directory: DataDirectory) throws -> Summary {
        let chain = try ReadOnlyChain(directory)
        let verifier = ChainVerifier(gatewayKey: chain.gatewayKey)
        do {
            let verified = try verifier.verify(chain.store)
            var summary = Summary(
                ok: true,
                blocks: verified.blockCount,
                entries: verified.tree.size,
                meters: verified.state.tnt.meterCount,
                pendingInJournal: chain.journalCount(),
                tipHash: verified.tip?.hash.hex
            )
            switch try ChainWriter.checkResumeSnapshot(store: chain.store, verified: verified) {
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

    func run() async throws {
        let summary = try Self.check(data.directory)
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
                if summary.resumeSnapshot == "differs" {
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
            print(
                "chain OK: \(summary.blocks) blocks, \(summary.entries) entries, \(summary.meters) meters enrolled"
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

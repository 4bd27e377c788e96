import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import OperatorKit

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Verify the whole chain (signatures, links, Merkle roots, sequences, TNT replay); exit non-zero at the first failure."
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
            return Summary(
                ok: true,
                blocks: verified.blockCount,
                entries: verified.tree.size,
                meters: verified.state.tnt.meterCount,
                pendingInJournal: chain.journalCount(),
                tipHash: verified.tip?.hash.hex
            )
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
                print(
                    "the chain store \(data.directory.chainPath) was altered or damaged after it was written; restore it from a copy",
                    to: &stderr
                )
            }
            throw ExitCode(2)
        }
        if !json {
            print(
                "chain OK: \(summary.blocks) blocks, \(summary.entries) entries, \(summary.meters) meters enrolled"
                    + (summary.tipHash.map { ", tip \($0)" } ?? "")
                    + (summary.pendingInJournal > 0
                        ? "; \(summary.pendingInJournal) acknowledged entries wait in the journal for the next seal"
                        : "")
            )
        }
    }
}

import ArgumentParser
import LedgerLite
import OperatorKit
import SuperNodeCore

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Audit every gateway's accepted chain again from its first block, and check its audit snapshot against that replay; exit non-zero when anything disagrees.",
        discussion: """
            `serve` checks each gateway's audit snapshot against the signed header of its block at \
            start-up, and audits again only the blocks after it when the gateway's audit is \
            restored; it never replays a whole history. This command does: every stored block's \
            signatures, links, Merkle roots, sequences and rules, for every gateway, and then \
            whether each snapshot, restored as `serve` restores it, reaches the same state. It \
            reads the store only, and may run beside `serve` on the same directory.
            """
    )

    @OptionGroup var data: DataOption

    func run() async throws {
        let store: AuthorityStore
        do { store = try await data.directory.openStore() } catch {
            throw OperatorError("cannot open the super node's store in \(data.data): \(error)")
        }
        let outcomes: [(GatewayID, AuditSnapshotCheck.Outcome)]
        do { outcomes = try await AuditSnapshotCheck.checkAll(store) } catch let damage as StoreDamage {
            var stderr = StandardError()
            print("verification FAILED: \(damage.description)", to: &stderr)
            throw ExitCode(2)
        }
        let tips = try await store.read { db in try AuthorityStore.acceptedTips(db) }
        var failed = 0
        for (gateway, outcome) in outcomes {
            let tip = tips[gateway].map { "blocks 0–\($0.height), \($0.treeSize) entries" } ?? "no blocks"
            switch outcome {
            case .matches(let height):
                print("gateway \(gateway.hex): \(tip) audited; audit snapshot after block \(height) matches")
            case .missing:
                print("gateway \(gateway.hex): \(tip) audited; no audit snapshot yet (the next start-up writes one)")
            case .differs(let what):
                failed += 1
                var stderr = StandardError()
                print("gateway \(gateway.hex): \(tip) audited, but \(what)", to: &stderr)
            }
        }
        guard failed == 0 else {
            var stderr = StandardError()
            print(
                "verification FAILED: \(failed) of \(outcomes.count) gateways' audit snapshots disagree with their chains; the store \(store.location) was edited or damaged (docs/OPERATIONS.md, Troubleshooting)",
                to: &stderr
            )
            throw ExitCode(2)
        }
        print("store OK: \(outcomes.count) gateways' chains audited from their first block")
    }
}

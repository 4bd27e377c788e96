import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNodeCore

/// The value rule, in memory: a producer dispatched beyond its metered export plus the
/// super node's tolerance is flagged once per block that dispatches from it.
@Suite("Value policy, in memory")
struct ValuePolicyTests {
    let gateway = TestKeys.key(0x99)

    /// Each block of the inflating chain with the TNT state after it.
    func audited() throws -> [(block: Block, state: TNTState)] {
        let chain = try ChainMaker.inflating(gateway: gateway)
        var state = ChainState(gatewayKey: gateway.publicIdentity)
        return try chain.blocks.map { block in
            for entry in block.entries { try state.apply(entry) }
            return (block, state.tnt)
        }
    }

    @Test func dispatchBeyondExportIsFlaggedAndWithinItIsNot() throws {
        let producer = TestKeys.key(0x61).id
        let flagged = try audited().map { block, state in
            ValuePolicy(toleranceWh: 0).flags(for: block, after: state, gateway: gateway.id, at: 7)
        }
        // Block 0 holds enrollments and the policy; block 1 dispatches 3,000 Wh of a producer whose
        // meter exported 1,000 Wh since its first counter (1,000 → 2,000 Wh): over.
        #expect(flagged[0].isEmpty)
        #expect(flagged[1].map(\.producer) == [producer])
        #expect(flagged[1].first?.dispatchedWh == 3000 && flagged[1].first?.exportedWh == 1000)
        #expect(flagged[1].first?.chainToleranceWh == 10_000, "the chain's own tolerance is reported beside")
        // The last block dispatches 100 Wh more after the counter reached 11,000 Wh: 4,600 ≤ 10,000.
        #expect(flagged.last?.isEmpty == true)
    }

    @Test func theSuperNodesToleranceIsAddedToTheExport() throws {
        let generous = try audited().flatMap { block, state in
            ValuePolicy(toleranceWh: 10_000).flags(for: block, after: state, gateway: gateway.id, at: 7)
        }
        #expect(generous.isEmpty)
    }

    @Test func anExtremeToleranceCannotOverflow() throws {
        let flags = try audited().flatMap { block, state in
            ValuePolicy(toleranceWh: .max).flags(for: block, after: state, gateway: gateway.id, at: 7)
        }
        #expect(flags.isEmpty)
    }
}

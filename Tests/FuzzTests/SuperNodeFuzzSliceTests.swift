import FuzzKit
import TestSupport
import Testing

/// The CI slice of `make fuzz FUZZ_ARGS='--target super-node'`: a fixed seed, 1,600 pushes and
/// escalations.
@Suite("Fuzz slice: super node")
struct SuperNodeFuzzSliceTests {
    @Test func hostileSignedPushesAndEscalationsNeitherTrapNorBreakTheAuditedChains() async throws {
        let fuzzer = try await SuperNodeFuzzer.open(path: makeTempDir(), seed: 0x5EED_0013)
        try await fuzzer.run(inputs: 1600)
        // Throws when a genuine block was refused, a hostile one accepted, or the store does
        // not re-verify.
        let verified = try await fuzzer.finish()
        let outcomes = fuzzer.outcomes
        // The genuine chain went on between the hostile inputs, and the hostile gateway's
        // extreme values reached the audit and were accepted where the rules allow them.
        #expect(outcomes["genuine block accepted"] > 300, "\(outcomes.lines)")
        #expect(verified.genuineBlocks == UInt64(outcomes["genuine block accepted"]))
        #expect(outcomes["hostile-gateway block accepted"] > 30, "\(outcomes.lines)")
        #expect(verified.hostileGatewayBlocks == UInt64(outcomes["hostile-gateway block accepted"]))
        #expect(outcomes["block replayed"] > 0, "\(outcomes.lines)")
        // Refused for many different reasons: the audit, the credentials, the escalation rules.
        for expected in [
            "block rejected:fork", "block rejected:gap", "block rejected:malformed-block",
            "block rejected:rule-violation", "block rejected:merkle-root-mismatch", "block rejected:foreign-authority",
            "block rejected:wrong-gateway", "block rejected:bad-block-signature", "block rejected:future-timestamp",
            "push refused:replayed-request",
            "push refused:untrusted-certificate", "push refused:unknown-certificate",
            "push refused:revoked-certificate",
            "push refused:malformed-certificate", "push refused:bad-signature", "escalation refused:unknown-consumer",
            "escalation refused:bad-request-signature", "escalation refused:malformed-request",
            "escalation unserved:no-candidate",
        ] {
            #expect(outcomes.reasons.contains(expected), "\(expected) never happened: \(outcomes.lines)")
        }
    }
}

import FuzzKit
import TestSupport
import Testing

/// The CI slice of `make fuzz`: a fixed seed, a few thousand inputs.
@Suite("Fuzz slice")
struct FuzzSliceTests {
    @Test(arguments: [UInt64(1), 0x5EED_0013])
    func hostileSignedInputsNeitherTrapNorBreakTheChain(seed: UInt64) async throws {
        let fuzzer = try await GatewayFuzzer.open(path: makeTempDir(), seed: seed)
        try await fuzzer.run(inputs: 3000)
        let verified = try await fuzzer.finish()
        let counts = fuzzer.outcomes.counts
        // The slice reaches the chain rules, not only the decoder: it has to be accepted
        // often and refused for many different reasons.
        #expect(counts["reading accepted", default: 0] > 300, "\(fuzzer.outcomes.lines)")
        #expect(counts["offer accepted", default: 0] > 20, "\(fuzzer.outcomes.lines)")
        let reasons = Set(counts.keys.filter { $0.contains(":") })
        for expected in [
            "reading rejected:timestamp-skew", "reading rejected:malformed", "reading rejected:bad-signature",
            "reading rejected:unknown-meter", "reading rejected:implausible-value", "reading rejected:sequence-gap",
        ] {
            #expect(reasons.contains(expected), "\(expected) never happened: \(fuzzer.outcomes.lines)")
        }
        #expect(verified.tree.size > 500)
    }
}

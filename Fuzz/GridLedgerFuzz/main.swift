import ArgumentParser
import Foundation
import FuzzKit

/// `make fuzz`: validly signed hostile inputs through the real admission code, in process.
@main
struct GridLedgerFuzz: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridledger-fuzz",
        abstract: "Feed validly signed hostile readings, offers and requests to a gateway in process.",
        discussion: """
            Each input is signed by an enrolled meter (mostly), a stranger, or no one, with \
            sequences out of order and timestamps, counters and energies at the extremes of \
            their types. A trap kills the process: rerun with the printed seed to reproduce it. \
            At the end the gateway's chain must verify. Prints inputs per second and every \
            outcome by reason.
            """
    )

    @Option(help: "Seed of the input generator (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "How many inputs to feed.")
    var inputs = 1_000_000

    @Option(help: "Stop after this many seconds even if fewer inputs were fed.")
    var seconds = 1800.0

    @Option(help: "Print progress every this many inputs.")
    var every = 50_000

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: .min ... .max)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gridledger-fuzz-\(seed)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        print("seed \(seed) (rerun: make fuzz FUZZ_ARGS='--seed \(seed)')")
        let fuzzer = try await GatewayFuzzer.open(path: path, seed: seed)
        let started = ContinuousClock.now
        while fuzzer.outcomes.inputs < inputs, (ContinuousClock.now - started) < .seconds(seconds) {
            try await fuzzer.run(inputs: min(every, inputs - fuzzer.outcomes.inputs))
            let elapsed = (ContinuousClock.now - started).secondsValue
            print(
                "\(fuzzer.outcomes.inputs) inputs in \(Int(elapsed)) s: \(Int(Double(fuzzer.outcomes.inputs) / elapsed)) /s"
            )
        }
        let elapsed = (ContinuousClock.now - started).secondsValue
        let verified = try await fuzzer.finish()
        print("outcomes:")
        for line in fuzzer.outcomes.lines { print(line) }
        print(
            "\(fuzzer.outcomes.inputs) inputs, \(Int(Double(fuzzer.outcomes.inputs) / elapsed)) inputs/s, no trap; the chain verifies: \(verified.blockCount) blocks, \(verified.tree.size) entries"
        )
    }
}

extension Duration {
    fileprivate var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

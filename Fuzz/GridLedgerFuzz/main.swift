import ArgumentParser
import Foundation
import FuzzKit

/// `make fuzz`: validly signed hostile inputs through the real admission code, in process.
@main
struct GridLedgerFuzz: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridledger-fuzz",
        abstract: "Feed validly signed hostile inputs to a gateway and a super node in process.",
        discussion: """
            gateway: readings, offers and requests signed by an enrolled meter (mostly), a \
            stranger, or no one, with sequences out of order and timestamps, counters and \
            energies at the extremes of their types; afterwards the gateway's chain must verify. \
            super-node: a certified gateway's genuine blocks interleaved with hostile variants \
            (replays, forks, gaps, truncated or padded bytes, headers and entries re-signed with \
            the gateway key over extreme values, blocks dated beyond the super node's clock \
            window), a second certified gateway pushing whatever the chain rules let through, \
            now and then at such a time, pushes and escalations with wrong, stale, replayed or \
            foreign stamps and certificates, escalations with extreme energies and unknown \
            consumers; every genuine block must be accepted in order and no hostile one, and \
            afterwards the super node's stored chains must re-verify. \
            With both, the inputs and the seconds are shared: half the inputs each, the gateway \
            first, the super node in the time that is left. A trap kills the process: rerun with \
            the printed seed to reproduce it. Prints inputs per second and every outcome by reason.
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case gateway
        case superNode = "super-node"
        case both
    }

    @Option(help: "What to feed: gateway, super-node or both.")
    var target: Target = .both

    @Option(help: "Seed of the input generator (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "How many inputs to feed in all (with both, half to each).")
    var inputs = 1_000_000

    @Option(help: "Stop after this many seconds in all even if fewer inputs were fed.")
    var seconds = 1800.0

    @Option(help: "Print progress every this many inputs.")
    var every = 50_000

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: .min ... .max)
        print("seed \(seed) (rerun: make fuzz FUZZ_ARGS='--seed \(seed) --target \(target.rawValue)')")
        let started = ContinuousClock.now
        let targets: [Target] = target == .both ? [.gateway, .superNode] : [target]
        for (index, target) in targets.enumerated() {
            let share = index == targets.count - 1 ? inputs - inputs / targets.count * index : inputs / targets.count
            let left = seconds - (ContinuousClock.now - started).secondsValue
            let budget = index == targets.count - 1 ? left : left / Double(targets.count - index)
            try await run(target, seed: seed, inputs: share, seconds: budget)
        }
    }

    private func run(_ target: Target, seed: UInt64, inputs: Int, seconds: Double) async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("gridledger-fuzz-\(target.rawValue)-\(seed)").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        print("\(target.rawValue): up to \(inputs) inputs in \(Int(seconds)) s")
        let fuzzer: any TargetFuzzer
        switch target {
        case .gateway: fuzzer = try await GatewayFuzzer.open(path: path, seed: seed)
        case .superNode: fuzzer = try await SuperNodeFuzzer.open(path: path, seed: seed)
        case .both: return
        }
        let elapsed = try await loop(
            inputs: inputs,
            seconds: seconds,
            fed: { fuzzer.outcomes.inputs },
            batch: { try await fuzzer.run(inputs: $0) }
        )
        let verified = try await fuzzer.verifyAfterwards()
        report(target, fuzzer.outcomes, elapsed: elapsed)
        print(verified)
    }

    /// Feeds batches of at most `every` inputs until `inputs` were fed or `seconds` passed.
    /// - Returns: the seconds it took.
    private func loop(
        inputs: Int,
        seconds: Double,
        fed: () -> Int,
        batch: (Int) async throws -> Void
    ) async throws -> Double {
        let started = ContinuousClock.now
        while fed() < inputs, (ContinuousClock.now - started).secondsValue < seconds {
            try await batch(min(every, inputs - fed()))
            let elapsed = (ContinuousClock.now - started).secondsValue
            print("\(fed()) inputs in \(Int(elapsed)) s: \(Int(Double(fed()) / elapsed)) /s")
        }
        return (ContinuousClock.now - started).secondsValue
    }

    private func report(_ target: Target, _ outcomes: FuzzOutcomes, elapsed: Double) {
        print("\(target.rawValue) outcomes:")
        for line in outcomes.lines { print(line) }
        print(
            "\(target.rawValue): \(outcomes.inputs) inputs, \(Int(Double(outcomes.inputs) / max(elapsed, 0.001))) inputs/s, no trap"
        )
    }
}

/// What `make fuzz` does with either target's fuzzer.
protocol TargetFuzzer: AnyObject {
    var outcomes: FuzzOutcomes { get }
    func run(inputs: Int) async throws
    /// Checks the stores after the run; says what verified.
    func verifyAfterwards() async throws -> String
}

extension GatewayFuzzer: TargetFuzzer {
    func verifyAfterwards() async throws -> String {
        let verified = try await finish()
        return "the gateway's chain verifies: \(verified.blockCount) blocks, \(verified.tree.size) entries"
    }
}

extension SuperNodeFuzzer: TargetFuzzer {
    func verifyAfterwards() async throws -> String {
        let verified = try await finish()
        return
            "the super node's stored chains re-verify: \(verified.genuineBlocks) genuine blocks, all accepted in order, \(verified.hostileGatewayBlocks) blocks of the hostile gateway, \(verified.entries) entries"
    }
}

extension Duration {
    fileprivate var secondsValue: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

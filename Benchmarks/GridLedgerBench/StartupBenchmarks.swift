import Foundation
import GatewayCore
import LedgerLite
import LedgerStore
import Logging

/// Start-up resumes from the snapshot stored with the blocks (issue 14, point 1), so its
/// time depends on the live state, not on the history: the same 20 meters' readings at two
/// history sizes, in the same run, each beside a full `verify` of that chain (what start-up
/// cost before). GRIDLEDGER_STARTUP_SIZES (entries, comma-separated) overrides the sizes,
/// e.g. for a quick check in a debug build.
enum StartupBenchmarks {
    static let meters = 20
    static let start: Int64 = 1_782_000_000_000

    static func run() async throws {
        let sizes =
            ProcessInfo.processInfo.environment["GRIDLEDGER_STARTUP_SIZES"].map {
                $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            } ?? [100_000, 1_000_000]
        var results: [(entries: UInt64, startup: Double, verify: Double, firstStart: Double)] = []
        for size in sizes {
            let directory = DataDirectory(
                FileManager.default.temporaryDirectory.appendingPathComponent(
                    "gridledger-startup-bench-\(UUID().uuidString)"
                ).path
            )
            defer { try? FileManager.default.removeItem(atPath: directory.path) }
            let key = try directory.initialise()
            let entries = try history(entries: size, gateway: key, at: directory.chainPath)
            var logger = Logger(label: "bench")
            logger.logLevel = .error
            // The store was written without a snapshot: the first start-up verifies in full
            // and writes one (what every start-up cost before).
            let firstStart = try await Bench.timeAsync {
                try await ChainWriter.open(directory: directory, key: key, config: ChainWriterConfig(), logger: logger)
                    .close()
            }
            var startups: [Double] = []
            for _ in 0..<3 {
                startups.append(
                    try await Bench.timeAsync {
                        let writer = try await ChainWriter.open(
                            directory: directory,
                            key: key,
                            config: ChainWriterConfig(),
                            logger: logger
                        )
                        let held = await writer.health().entries
                        precondition(held == entries)
                        writer.close()
                    }
                )
            }
            // `edge-gateway verify`: the whole chain, then the snapshot against it.
            let verify = try Bench.time {
                let store = try ChainStore(path: directory.chainPath, check: .none)
                let verified = try ChainVerifier(gatewayKey: key.publicIdentity).verify(store)
                guard case .matches = try ChainWriter.checkResumeSnapshot(store: store, verified: verified) else {
                    preconditionFailure("the snapshot does not match the chain")
                }
            }
            results.append((entries, startups.sorted()[1], verify, firstStart))
        }
        for r in results {
            Bench.report(
                "start-up from the resume snapshot, \(r.entries) entries",
                value: r.startup * 1000,
                unit: "ms",
                reference: ("full verify", r.verify * 1000)
            )
            Bench.report(
                "first start-up of a store without one (verifies, writes it)",
                value: r.firstStart * 1000,
                unit: "ms",
                reference: ("full verify", r.verify * 1000)
            )
        }
        if results.count >= 2 {
            let (small, large) = (results[0], results[results.count - 1])
            Bench.report(
                "start-up at \(large.entries) ÷ at \(small.entries) entries",
                value: large.startup / small.startup,
                unit: "×",
                reference: ("entries ×", Double(large.entries) / Double(small.entries)),
                target: "≤ 1.2"
            )
        }
    }

    /// A sealed chain of about `entries` entries: the meters enrolled, then readings with
    /// three values round the meters, in blocks of 1,000, written without a resume snapshot.
    /// Readings are signed on every core.
    static func history(entries: Int, gateway: SigningIdentity, at path: String) throws -> UInt64 {
        let store = try ChainStore(path: path, check: .none)
        let keys = (0..<meters).map { _ in SigningIdentity() }
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 1000, maxAgeMilliseconds: .max))
        for (i, key) in keys.enumerated() {
            let enrollment = Enrollment(
                meterKey: key.publicIdentity,
                role: i % 2 == 0 ? .producer : .consumer,
                timestamp: start
            )
            _ = try builder.add(try SignedRecord.sign(.enrollment(enrollment), with: gateway), at: start)
        }
        if let block = try builder.seal(at: start) { try store.append(block) }
        let rounds = max(1, (entries - meters) / meters)
        let batch = 1000
        var round = 0
        while round < rounds {
            let count = min(batch, rounds - round)
            // Each iteration writes its own slots only.
            nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<SignedRecord?>.allocate(capacity: count * meters)
            slots.initialize(repeating: nil)
            defer { slots.deallocate() }
            let first = round
            DispatchQueue.concurrentPerform(iterations: count) { offset in
                let n = first + offset + 1
                for (m, key) in keys.enumerated() {
                    let values = [
                        MeasuredValue(.energyImportWh, Int64(n) * 5), MeasuredValue(.activePowerW, 300),
                        MeasuredValue(.voltageL1dV, 2300),
                    ]
                    let reading = try! Reading(
                        meter: key.id,
                        gateway: gateway.id,
                        sequence: UInt64(n),
                        timestamp: start + Int64(n) * 10_000,
                        values: values
                    )
                    slots[offset * meters + m] = try! SignedRecord.sign(.reading(reading), with: key)
                }
            }
            for (i, entry) in slots.enumerated() {
                let time = start + Int64(first + i / meters + 1) * 10_000
                if let block = try builder.add(signatureChecked: entry!, at: time) { try store.append(block) }
            }
            round += count
        }
        if let block = try builder.seal(at: start + Int64(rounds + 1) * 10_000) { try store.append(block) }
        return builder.tree.size
    }
}

import AsyncHTTPClient
import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import Logging

/// Start-up resumes from the snapshot stored with the blocks (issue 14, point 1), so its
/// time depends on the live state, not on the history: the same 20 meters' readings at two
/// history sizes, in the same run, each beside a full `verify` of that chain (what start-up
/// cost before). The snapshot is as far behind the tip as the writer lets it fall
/// (`ChainWriterConfig.snapshotEntries`), so start-up also replays those entries: the worst
/// case. GRIDLEDGER_STARTUP_SIZES (entries, comma-separated) overrides the sizes, e.g. for a
/// quick check in a debug build.
///
/// Then the real `edge-gateway serve` (the release binary beside this one) on each chain: the
/// time from its start until it listens, its resident memory once idle, and the median
/// receipt latency over HTTP for the oldest and the newest reading.
enum StartupBenchmarks {
    static let meters = 20

    static func run() async throws {
        let sizes =
            ProcessInfo.processInfo.environment["GRIDLEDGER_STARTUP_SIZES"].map {
                $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            } ?? [100_000, 3_000_000]
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let config = ChainWriterConfig()
        var results: [(entries: UInt64, behind: UInt64, startup: Double, verify: Double, firstStart: Double)] = []
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("edge-gateway").path
        var served: [(entries: UInt64, figure: ServedFigure)] = []
        for size in sizes {
            let directory = DataDirectory(
                FileManager.default.temporaryDirectory.appendingPathComponent(
                    "gridledger-startup-bench-\(UUID().uuidString)"
                ).path
            )
            defer { try? FileManager.default.removeItem(atPath: directory.path) }
            let key = try await directory.initialise()
            var history = try History(gateway: key, meters: meters, path: directory.chainPath)
            let behind = min(config.snapshotEntries - 1, UInt64(size / 2))
            try history.grow(to: UInt64(size) - behind)
            // Written without a snapshot: the first start-up verifies in full and writes one
            // (what every start-up cost before).
            let firstStart = try await Bench.timeAsync {
                try await ChainWriter.open(directory: directory, key: key, config: config, logger: logger).close()
            }
            try history.grow(to: UInt64(size))
            var startups: [Double] = []
            for _ in 0..<3 {
                startups.append(
                    try await Bench.timeAsync {
                        let writer = try await ChainWriter.open(
                            directory: directory,
                            key: key,
                            config: config,
                            logger: logger
                        )
                        let held = await writer.health().entries
                        precondition(held == history.entries, "\(held) entries resumed")
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
            let stored = try ChainStore(path: directory.chainPath, check: .none)
            let snapshotHeight = try stored.resumeSnapshot()?.height
            let snapshotSize = try snapshotHeight.flatMap { try stored.header(atHeight: $0)?.header.treeSize } ?? 0
            results.append((history.entries, history.entries - snapshotSize, startups.sorted()[1], verify, firstStart))
            if FileManager.default.isExecutableFile(atPath: binary) {
                // Every round gives each meter its next sequence, from 1.
                let figure = try await ServedFigure.measure(
                    binary: binary,
                    data: directory.path,
                    meter: history.keys[0].id.hex,
                    newest: UInt64(history.round)
                )
                served.append((history.entries, figure))
            }
        }
        for r in results {
            Bench.report(
                "start-up, \(r.entries) entries (snapshot \(r.behind) behind the tip)",
                value: r.startup * 1000,
                unit: "ms",
                reference: ("full verify", r.verify * 1000)
            )
            Bench.report(
                "  first start-up without a snapshot (verifies, writes one)",
                value: r.firstStart * 1000,
                unit: "ms",
                reference: ("full verify", r.verify * 1000)
            )
        }
        for (entries, figure) in served {
            Bench.report(
                "edge-gateway serve, \(entries) entries: start until it listens",
                value: figure.startup * 1000,
                unit: "ms",
                reference: ("in-process start-up above", results.first { $0.entries == entries }!.startup * 1000)
            )
            Bench.report(
                "  idle resident memory",
                value: Double(figure.residentKiB) / 1024,
                unit: "MiB",
                reference: ("at \(served[0].entries) entries", Double(served[0].figure.residentKiB) / 1024)
            )
            Bench.report(
                "  receipt of the oldest reading (median of \(ServedFigure.receipts))",
                value: figure.oldReceipt * 1000,
                unit: "ms",
                reference: ("newest reading", figure.recentReceipt * 1000)
            )
        }
        if served.count >= 2 {
            let (small, large) = (served[0], served[served.count - 1])
            Bench.report(
                "edge-gateway serve: start-up at \(large.entries) ÷ at \(small.entries) entries",
                value: large.figure.startup / small.figure.startup,
                unit: "×",
                reference: ("resident memory ×", Double(large.figure.residentKiB) / Double(small.figure.residentKiB)),
                target: "≤ 1.2"
            )
        } else if served.isEmpty {
            print("edge-gateway missing beside the benchmark binary, so no served figures: make bench builds it")
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

    /// The real gateway on a data directory: start-up until it listens, idle resident memory,
    /// receipt latencies.
    struct ServedFigure {
        static let receipts = 25
        var startup: Double
        var residentKiB: Int
        var oldReceipt: Double
        var recentReceipt: Double

        static func measure(
            binary: String,
            data: String,
            meter: String,
            newest: UInt64
        ) async throws
            -> ServedFigure
        {
            let urlFile = data + "/gateway.url"
            let (process, startup) = try await BenchHistory.startServing(
                binary,
                ["serve", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "warning"],
                urlFile: urlFile
            )
            defer { GatewayBenchmarks.stopProcess(process) }
            let base = try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            guard let url = URL(string: base) else { throw GatewayBenchmarks.BenchFailure("gateway.url: \(base)") }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let client = GatewayClient(base: url, client: http)
                let old = try await medianReceipt(client, meter: meter, sequence: 1)
                let recent = try await medianReceipt(client, meter: meter, sequence: newest)
                try await Task.sleep(for: .seconds(2))
                let resident = GatewayBenchmarks.residentKiB(process.processIdentifier)
                try await http.shutdown()
                return ServedFigure(startup: startup, residentKiB: resident, oldReceipt: old, recentReceipt: recent)
            } catch {
                try? await http.shutdown()
                throw error
            }
        }

        private static func medianReceipt(
            _ client: GatewayClient,
            meter: String,
            sequence: UInt64
        ) async throws
            -> Double
        {
            var times: [Double] = []
            for _ in 0..<receipts {
                let started = ContinuousClock.now
                _ = try await client.receipt(
                    ofMeter: meter,
                    sequence: sequence,
                    credential: .none,
                    timeout: .seconds(10)
                )
                times.append((ContinuousClock.now - started).seconds)
            }
            return times.sorted()[times.count / 2]
        }
    }

    /// A sealed chain, written without resume snapshots: the meters enrolled, then readings
    /// with three values round the meters, in blocks of 1,000, signed on every core.
    struct History {
        static let start: Int64 = 1_782_000_000_000
        let store: ChainStore
        let gateway: SigningIdentity
        let keys: [SigningIdentity]
        var builder: BlockBuilder
        var round = 0

        var entries: UInt64 { builder.tree.size }

        init(gateway: SigningIdentity, meters: Int, path: String) throws {
            store = try ChainStore(path: path, check: .none)
            self.gateway = gateway
            keys = (0..<meters).map { _ in SigningIdentity() }
            builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 1000, maxAgeMilliseconds: .max))
            for (i, key) in keys.enumerated() {
                let enrollment = Enrollment(
                    meterKey: key.publicIdentity,
                    role: i % 2 == 0 ? .producer : .consumer,
                    timestamp: Self.start
                )
                _ = try builder.add(try SignedRecord.sign(.enrollment(enrollment), with: gateway), at: Self.start)
            }
            if let block = try builder.seal(at: Self.start) { try store.append(block) }
        }

        /// Adds rounds of readings until the chain holds at least `target` entries, all sealed.
        mutating func grow(to target: UInt64) throws {
            let meters = keys.count
            while entries < target {
                let count = min(1000, Int((target - entries + UInt64(meters) - 1) / UInt64(meters)))
                let readings = BenchHistory.signedRounds(
                    keys: keys,
                    gateway: gateway,
                    after: round,
                    rounds: count,
                    start: Self.start + Int64(round) * 10_000
                )
                for (i, entry) in readings.enumerated() {
                    let time = Self.start + Int64(round + i / meters + 1) * 10_000
                    if let block = try builder.add(signatureChecked: entry, at: time) { try store.append(block) }
                }
                round += count
            }
            if let block = try builder.seal(at: Self.start + Int64(round + 1) * 10_000) { try store.append(block) }
        }
    }
}

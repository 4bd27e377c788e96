import Foundation
import GridAPI
import LedgerLite
import Logging
import SuperNodeCore

/// The super node's audit state does not grow with history: a gateway's chain of 20 meters'
/// readings pushed through `SuperNode.push` (certificate, request signature, audit, block,
/// checkpoint, checkpoint log and audit snapshot in one transaction) at two history sizes in
/// the same run, then:
/// - audit throughput, entries per second, beside raw Ed25519 verifications per second on
///   the same cores (each entry is one Ed25519 verification, plus hashing and the TNT replay);
/// - start-up and the gateway's audit restored (`SuperNode.open`, then `auditedChain`: the audit resumed from its snapshot and the
///   blocks after it, up to `--snapshot-entries` entries, wherever the schedule left it; the
///   figure says how many blocks) beside the full replay of every block that start-up did before
///   (`checkAuditSnapshots`, which also checks the snapshot against it);
/// - the resident set of the release `super-node serve` binary (beside this one) started on
///   each store, and its time to listen.
/// GRIDLEDGER_SUPERNODE_SIZES (entries, comma-separated) overrides the sizes, e.g. for a
/// quick check in a debug build.
enum SuperNodeBenchmarks {
    static let meters = 20
    static let entriesPerBlock = 1000
    /// After every block's last timestamp, and within the clock window of every request stamp.
    static let now: Int64 = 1_790_000_000_000

    struct Figure {
        var entries: UInt64
        var behindBlocks: UInt64
        var auditRate: Double
        var startup: Double
        var fullReplay: Double
        var serve: (startup: Double, residentKiB: Int)?
    }

    static func run() async throws {
        let sizes =
            ProcessInfo.processInfo.environment["GRIDLEDGER_SUPERNODE_SIZES"].map {
                $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            } ?? [10_000, 1_000_000]
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("super-node").path
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var figures: [Figure] = []
        for size in sizes {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "gridledger-supernode-bench-\(UUID().uuidString)"
            ).path
            defer { try? FileManager.default.removeItem(atPath: path) }
            var figure = try await audit(entries: UInt64(size), path: path)
            if FileManager.default.isExecutableFile(atPath: binary) {
                figure.serve = try await serve(binary: binary, data: path)
            }
            figures.append(figure)
        }
        let ed25519 = try Bench.ed25519VerificationsPerSecond(threads: cores, perThread: 5000)
        if !FileManager.default.isExecutableFile(atPath: binary) {
            print("super-node missing beside the benchmark binary, so no resident-set figures (make bench builds it)")
        }
        for f in figures {
            Bench.report(
                "audit, \(f.entries) entries pushed (blocks of \(entriesPerBlock))",
                value: f.auditRate,
                unit: "entries/s",
                reference: ("Ed25519 verifications/s, \(cores) cores", ed25519)
            )
            Bench.report(
                "  start-up, audit restored (\(f.behindBlocks) blocks after snapshot)",
                value: f.startup * 1000,
                unit: "ms",
                reference: ("full replay", f.fullReplay * 1000)
            )
            if let serve = f.serve {
                Bench.report("  super-node serve: time to listen", value: serve.startup * 1000, unit: "ms")
                Bench.report(
                    "  super-node serve: resident set once listening",
                    value: Double(serve.residentKiB) / 1024,
                    unit: "MiB"
                )
            }
        }
        if figures.count >= 2 {
            let (small, large) = (figures[0], figures[figures.count - 1])
            let entries = ("entries ×", Double(large.entries) / Double(small.entries))
            Bench.report(
                "start-up at \(large.entries) ÷ at \(small.entries) entries",
                value: large.startup / small.startup,
                unit: "×",
                reference: entries,
                target: "≤ 1.2"
            )
            if let a = small.serve, let b = large.serve {
                Bench.report(
                    "super-node resident set at \(large.entries) ÷ at \(small.entries) entries",
                    value: Double(b.residentKiB) / Double(a.residentKiB),
                    unit: "×",
                    reference: entries,
                    target: "flat (≤ 1.1)"
                )
            }
        }
    }

    /// A super node in `path` audits a gateway's chain of `entries` entries; timed.
    static func audit(entries: UInt64, path: String) async throws -> Figure {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = SuperDirectory(path)
        _ = try await directory.initialise()
        let open = { try await SuperNode.open(directory: directory, logger: logger, clock: { now }) }
        let node = try await open()
        let gateway = SigningIdentity()
        let certificate = try await Authority.certify(
            store: node.store,
            root: node.root,
            gatewayKey: gateway.publicIdentity,
            name: "bench",
            now: now
        )
        var chain = Chain(gateway: gateway, meters: meters)
        var pushing = 0.0
        var pushed: UInt64 = 0
        while chain.entries < entries {
            let blocks = try chain.grow(by: min(UInt64(entriesPerBlock) * 10, entries - chain.entries))
            for block in blocks {
                let bytes = block.wireBytes()
                let proof = try pushProof(bytes, signer: gateway, certificate: certificate)
                var outcome: PushOutcome?
                pushing += try await Bench.timeAsync {
                    outcome = try await node.push(certificate: certificate.bytes, proof: proof, blocks: [bytes])
                }
                guard outcome?.rejection == nil, outcome?.accepted.count == 1 else {
                    throw GatewayBenchmarks.BenchFailure(
                        "block \(block.height) refused: \(String(describing: outcome))"
                    )
                }
                pushed += UInt64(block.entries.count)
            }
        }
        var startups: [Double] = []
        for _ in 0..<3 {
            startups.append(
                try await Bench.timeAsync {
                    // Start-up, then the gateway's audit restored, as its next push would.
                    let resumed = try await open()
                    let restored = try await resumed.auditedChain(of: gateway.id)
                    precondition(restored?.tip.treeSize == chain.entries)
                }
            )
        }
        var snapshotHeight: UInt64 = 0
        let fullReplay = try await Bench.timeAsync {
            let outcomes = try await node.checkAuditSnapshots()
            guard case let .matches(height) = outcomes[gateway.id] else {
                preconditionFailure("the audit snapshot does not match the chain: \(String(describing: outcomes))")
            }
            snapshotHeight = height
        }
        let tipHeight = try await node.auditedTips()[gateway.id]?.height ?? 0
        return Figure(
            entries: chain.entries,
            behindBlocks: tipHeight - snapshotHeight,
            auditRate: Double(pushed) / pushing,
            startup: startups.sorted()[1],
            fullReplay: fullReplay
        )
    }

    /// The signed request of a push of one block (`bytes`, its wire bytes), as the gateway's
    /// uplink sends it.
    static func pushProof(
        _ bytes: [UInt8],
        signer: SigningIdentity,
        certificate: SignedGatewayCertificate
    ) throws -> RequestProof {
        let body = Array(
            try JSONEncoder().encode(
                PushRequest(
                    certificate: Data(certificate.bytes).base64EncodedString(),
                    blocks: [Data(bytes).base64EncodedString()]
                )
            )
        )
        return RequestProof(
            signature: try RequestSigning.headerValue(
                signer: signer,
                at: now,
                endpoint: SuperNodeRoutes.blocks,
                body: body
            ),
            body: body
        )
    }

    /// `super-node serve` on `data`: how long until it listens, and its resident set then.
    static func serve(binary: String, data: String) async throws -> (startup: Double, residentKiB: Int) {
        let (process, startup) = try await BenchHistory.startServing(
            binary,
            ["serve", "--data", data, "--listen", "127.0.0.1:0"],
            urlFile: data + "/super-node.url"
        )
        defer { GatewayBenchmarks.stopProcess(process) }
        try await Task.sleep(for: .seconds(1))
        return (startup, GatewayBenchmarks.residentKiB(process.processIdentifier))
    }

    /// A gateway's chain: the meters enrolled, then readings with three values round the
    /// meters, signed on every core, sealed in blocks of `entriesPerBlock`.
    struct Chain {
        let gateway: SigningIdentity
        let keys: [SigningIdentity]
        var builder: BlockBuilder
        var round = 0
        var time: Int64 = 1_782_000_000_000
        var enrolled = false

        var entries: UInt64 { builder.tree.size }

        init(gateway: SigningIdentity, meters: Int) {
            self.gateway = gateway
            keys = (0..<meters).map { _ in SigningIdentity() }
            builder = BlockBuilder(
                gateway: gateway,
                policy: SealPolicy(maxEntries: entriesPerBlock, maxAgeMilliseconds: .max)
            )
        }

        /// About `count` more entries (whole rounds of the meters), sealed.
        mutating func grow(by count: UInt64) throws -> [Block] {
            var blocks: [Block] = []
            if !enrolled {
                enrolled = true
                for (i, key) in keys.enumerated() {
                    let role: MeterRole = i % 2 == 0 ? .producer : .consumer
                    let enrollment = Enrollment(meterKey: key.publicIdentity, role: role, timestamp: time)
                    if let block = try builder.add(
                        try SignedRecord.sign(.enrollment(enrollment), with: gateway),
                        at: time
                    ) {
                        blocks.append(block)
                    }
                }
            }
            let meters = keys.count
            let rounds = max(1, Int((count + UInt64(meters) - 1) / UInt64(meters)))
            let start = time
            let readings = BenchHistory.signedRounds(
                keys: keys,
                gateway: gateway,
                after: round,
                rounds: rounds,
                start: start
            )
            for (i, entry) in readings.enumerated() {
                if let block = try builder.add(signatureChecked: entry, at: start + Int64(i / meters + 1) * 10_000) {
                    blocks.append(block)
                }
            }
            round += rounds
            time = start + Int64(rounds + 1) * 10_000
            if let block = try builder.seal(at: time) { blocks.append(block) }
            return blocks
        }
    }
}

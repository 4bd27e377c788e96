import AsyncHTTPClient
import Foundation
import GatewayCore
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import SuperNodeCore
import TestSupport

/// The super node on PostgreSQL, as one replica and as two sharing the store, in the same
/// run: `gateways` gateways push their chains at once (each block through `SuperNode.push`:
/// certificate, request signature, audit under the gateway's lock, block, checkpoint,
/// checkpoint log and audit snapshot in one transaction), each to one replica. Beside:
/// the same pushes to one super node on SQLite, and raw Ed25519 verifications per second on
/// the same cores. Then how long a replica that stops answering inside a transaction holds a
/// gateway up before the server fences it off (`serve --fence-after`, here 2 s).
///
/// The replicas run in this process, on the machine that also runs PostgreSQL (a throw-away
/// cluster, as the tests start): on two cores, they share the cores a second machine would
/// add. GRIDLEDGER_REPLICA_ENTRIES (entries per gateway) overrides the size.
enum ReplicaBenchmarks {
    static let gateways = 4
    static let now = SuperNodeBenchmarks.now

    static func run() async throws {
        let perGateway =
            ProcessInfo.processInfo.environment["GRIDLEDGER_REPLICA_ENTRIES"].flatMap { UInt64($0) } ?? 20_000
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let keys = (0..<gateways).map { _ in SigningIdentity() }
        var chains: [[Block]] = []
        for key in keys {
            var chain = SuperNodeBenchmarks.Chain(gateway: key, meters: SuperNodeBenchmarks.meters)
            var blocks: [Block] = []
            while chain.entries < perGateway {
                blocks += try chain.grow(
                    by: min(UInt64(SuperNodeBenchmarks.entriesPerBlock) * 10, perGateway - chain.entries)
                )
            }
            chains.append(blocks)
        }
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }

        let sqlite = try await rate(chains, keys, replicas: 1, postgres: nil, logger: logger)
        var rates: [Int: Double] = [:]
        for replicas in [1, 2] {
            try cluster.psql("CREATE DATABASE bench_\(replicas)")
            let location = try PostgresLocation(
                "postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/bench_\(replicas)"
            )
            rates[replicas] = try await rate(chains, keys, replicas: replicas, postgres: location, logger: logger)
        }
        try cluster.psql("CREATE DATABASE bench_fence")
        let fenced = try await takeover(
            postgres: try PostgresLocation("postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/bench_fence"),
            logger: logger
        )
        try cluster.psql("CREATE DATABASE bench_kill")
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("super-node").path
        let killed = try await killTakeover(
            binary: binary,
            postgres: try PostgresLocation("postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/bench_kill"),
            logger: logger
        )
        let ed25519 = try Bench.ed25519VerificationsPerSecond(threads: cores, perThread: 5000)
        let label = "\(gateways) gateways × \(perGateway) entries"
        Bench.report(
            "audit, SQLite, one super node (\(label))",
            value: sqlite,
            unit: "entries/s",
            reference: ("Ed25519 verifications/s, \(cores) cores", ed25519)
        )
        for replicas in [1, 2] {
            Bench.report(
                "audit, PostgreSQL, \(replicas) replica\(replicas == 1 ? "" : "s") (\(label))",
                value: rates[replicas] ?? 0,
                unit: "entries/s",
                reference: ("Ed25519 verifications/s, \(cores) cores", ed25519)
            )
        }
        Bench.report(
            "takeover of a gateway held by a replica stopped mid-transaction",
            value: fenced * 1000,
            unit: "ms",
            reference: ("--fence-after", 2000)
        )
        if let killed {
            Bench.report(
                "takeover after kill -9 of super-node serve (refused push, then the other)",
                value: killed.takeover * 1000,
                unit: "ms",
                reference: (
                    "the uplink's connect timeout", Double(UplinkConfig().connectTimeout.components.seconds) * 1000
                )
            )
        } else {
            print(
                "super-node missing beside the benchmark binary, so no kill -9 takeover figure (make bench builds it)"
            )
        }
    }

    /// A fresh super node (one or two replicas) audits every chain, the gateways pushing at
    /// once; entries per second over the whole.
    static func rate(
        _ chains: [[Block]],
        _ keys: [SigningIdentity],
        replicas: Int,
        postgres: PostgresLocation?,
        logger: Logger
    ) async throws -> Double {
        let directories = try (0..<replicas).map { index in
            SuperDirectory(
                FileManager.default.temporaryDirectory.appendingPathComponent(
                    "gridledger-replica-bench-\(index)-\(UUID().uuidString)"
                ).path,
                postgres: postgres
            )
        }
        defer { for directory in directories { try? FileManager.default.removeItem(atPath: directory.path) } }
        let root = try await directories[0].initialise()
        for directory in directories.dropFirst() {
            try FileManager.default.createDirectory(
                atPath: directory.path,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            try KeyFile.writePrivateKey(root, to: directory.keyPath)
            try KeyFile.writePublicKey(root.publicIdentity, to: directory.publicKeyPath, comment: "super-node-root")
        }
        var nodes: [SuperNode] = []
        for directory in directories {
            nodes.append(try await SuperNode.open(directory: directory, logger: logger, clock: { now }))
        }
        var certificates: [SignedGatewayCertificate] = []
        for key in keys {
            certificates.append(
                try await Authority.certify(
                    store: nodes[0].store,
                    root: nodes[0].root,
                    gatewayKey: key.publicIdentity,
                    name: "bench",
                    now: now
                )
            )
        }
        let entries = chains.reduce(0) { $0 + $1.reduce(0) { $0 + $1.entries.count } }
        let elapsed = try await Bench.timeAsync {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, chain) in chains.enumerated() {
                    let node = nodes[index % nodes.count]
                    let (key, certificate) = (keys[index], certificates[index])
                    group.addTask {
                        for block in chain {
                            try await push(block, to: node, signer: key, certificate: certificate)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        for node in nodes { await node.store.engine.close() }
        return Double(entries) / elapsed
    }

    static func push(
        _ block: Block,
        to node: SuperNode,
        signer: SigningIdentity,
        certificate: SignedGatewayCertificate
    ) async throws {
        let bytes = block.wireBytes()
        let proof = try SuperNodeBenchmarks.pushProof(bytes, signer: signer, certificate: certificate)
        let outcome = try await node.push(certificate: certificate.bytes, proof: proof, blocks: [bytes])
        guard outcome.rejection == nil, outcome.accepted.count == 1 else {
            throw GatewayBenchmarks.BenchFailure("block \(block.height) refused: \(String(describing: outcome))")
        }
    }

    /// Replica A takes a gateway's lock in a transaction and stops answering the server; the
    /// time replica B's push of that gateway's next block takes (the server ends A's
    /// transaction after A's `fenceAfter`).
    static func takeover(postgres: PostgresLocation, logger: Logger) async throws -> Double {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "gridledger-fence-bench-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let directory = SuperDirectory(path, postgres: postgres)
        _ = try await directory.initialise()
        let node = try await SuperNode.open(directory: directory, logger: logger, clock: { now })
        let key = SigningIdentity()
        let certificate = try await Authority.certify(
            store: node.store,
            root: node.root,
            gatewayKey: key.publicIdentity,
            name: "bench",
            now: now
        )
        var chain = SuperNodeBenchmarks.Chain(gateway: key, meters: 4)
        let blocks = try chain.grow(by: UInt64(SuperNodeBenchmarks.entriesPerBlock) * 2)
        try await push(blocks[0], to: node, signer: key, certificate: certificate)
        let stalled = try await PostgresEngine.open(postgres, connections: 1, fenceAfter: .seconds(2), logger: logger)
        let gateway = key.id
        let locked = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await stalled.session { db in
                try db.transaction {
                    try db.serialize(on: .gateway(gateway))
                    locked.continuation.yield()
                    Thread.sleep(forTimeInterval: 5)
                }
            }
        }
        var iterator = locked.stream.makeAsyncIterator()
        _ = await iterator.next()
        let elapsed = try await Bench.timeAsync {
            try await push(blocks[1], to: node, signer: key, certificate: certificate)
        }
        _ = try? await holder.value  // fenced off: its transaction was ended by the server
        await stalled.close()
        await node.store.engine.close()
        return elapsed
    }

    /// Two `super-node serve` replicas (the binary beside this one) on `postgres`; a gateway's
    /// block pushed to A; A killed (SIGKILL); the time from the kill until the gateway's next
    /// block, pushed first to A (refused: nothing listens) then to B as its uplink does, is
    /// checkpointed by B. Beside: the uplink's connect timeout, which the refused push takes
    /// (its HTTP client retries a refused connection until then). Nil without the binary.
    static func killTakeover(
        binary: String,
        postgres: PostgresLocation,
        logger: Logger
    ) async throws -> (takeover: Double, push: Double)? {
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let paths = (0..<2).map { index in
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "gridledger-kill-bench-\(index)-\(UUID().uuidString)"
            ).path
        }
        defer { for path in paths { try? FileManager.default.removeItem(atPath: path) } }
        let first = SuperDirectory(paths[0], postgres: postgres)
        let root = try await first.initialise()
        let second = SuperDirectory(paths[1], postgres: postgres)
        try FileManager.default.createDirectory(
            atPath: second.path,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        try KeyFile.writePrivateKey(root, to: second.keyPath)
        try KeyFile.writePublicKey(root.publicIdentity, to: second.publicKeyPath, comment: "super-node-root")
        let key = SigningIdentity()
        let store = try await first.openStore(logger: logger)
        let certificate = try await Authority.certify(
            store: store,
            root: root,
            gatewayKey: key.publicIdentity,
            name: "bench",
            now: Timestamps.now()
        )
        await store.engine.close()
        var replicas: [(process: Process, url: String)] = []
        defer { for replica in replicas { GatewayBenchmarks.stopProcess(replica.process) } }
        for directory in [first, second] {
            let (process, _) = try await BenchHistory.startServing(
                binary,
                ["serve", "--data", directory.path, "--store", postgres.connectionURL, "--listen", "127.0.0.1:0"],
                urlFile: directory.urlPath
            )
            let url = try String(contentsOfFile: directory.urlPath, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            replicas.append((process, url))
        }
        var chain = SuperNodeBenchmarks.Chain(gateway: key, meters: 4)
        let blocks = try chain.grow(by: UInt64(SuperNodeBenchmarks.entriesPerBlock) * 3)
        // Connect as the gateway's uplink does: its HTTP client retries a refused connection
        // until the connect timeout, which is then most of the takeover.
        let uplink = UplinkConfig()
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .gridLedger(connect: uplink.connectTimeout, read: uplink.requestTimeout)
        )
        func push(_ block: Block, to url: String) async throws {
            let request = PushRequest(
                certificate: Data(certificate.bytes).base64EncodedString(),
                blocks: [Data(block.wireBytes()).base64EncodedString()]
            )
            let answer = try await SuperNodeClient(base: url, client: http).push(
                request,
                signer: RequestSigner(key: key, clock: Timestamps.now),
                timeout: .seconds(30)
            )
            guard answer.body.rejected == nil, answer.body.checkpoints.count == 1 else {
                throw GatewayBenchmarks.BenchFailure("block \(block.height) refused: \(answer.body)")
            }
        }
        do {
            try await push(blocks[0], to: replicas[0].url)
            let live = try await Bench.timeAsync { try await push(blocks[1], to: replicas[0].url) }
            kill(replicas[0].process.processIdentifier, SIGKILL)
            replicas[0].process.waitUntilExit()
            let takeover = try await Bench.timeAsync {
                do {
                    try await push(blocks[2], to: replicas[0].url)
                    throw GatewayBenchmarks.BenchFailure("a killed replica answered")
                } catch is GridAPIError {
                    try await push(blocks[2], to: replicas[1].url)
                }
            }
            try await http.shutdown()
            return (takeover, live)
        } catch {
            try await http.shutdown()
            throw error
        }
    }
}

import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Two replicas of one super node on a real PostgreSQL, two gateways pushing to them with
/// both URLs, and one replica killed (kill -9) while readings flow: the gateways move to the
/// other, every block is checkpointed once, the checkpoints are the same at both ends, the
/// checkpoint log has one entry per checkpoint, and an escalation is served meanwhile.
@Suite("Super-node replicas on PostgreSQL with the real binaries", .serialized)
struct ReplicaSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure
    typealias Node = EscalationSystemTests.Node
    typealias Uplink = UplinkSystemTests.Uplink

    struct Health: Decodable {
        var height: Int64?
        var pending: Int
    }

    /// A replica's data directory: the root key of the first, copied (what an operator copies
    /// to another machine); the store is the shared database.
    static func replicaDirectory(_ world: World, from first: String, _ name: String) throws -> String {
        let directory = world.path(name)
        try FileManager.default.createDirectory(
            atPath: directory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        for file in ["root.key", "root.key.pub"] {
            try FileManager.default.copyItem(atPath: first + "/" + file, toPath: directory + "/" + file)
        }
        return directory
    }

    static func serveReplica(
        _ world: World,
        _ directory: String,
        store: String,
        log: String
    ) async throws -> (
        RunningProcess, String
    ) {
        let urlFile = directory + "/super-node.url"
        let process = try RunningProcess(
            "super-node",
            ["serve", "--data", directory, "--store", store, "--listen", "127.0.0.1:0", "--fence-after", "5"],
            log: world.path(log)
        )
        try await waitUntil("\(directory)/super-node.url") {
            FileManager.default.fileExists(atPath: urlFile) || !process.process.isRunning
        }
        guard process.process.isRunning else { throw Failure("super-node serve stopped: \(process.logText)") }
        return (
            process,
            try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }

    /// `gateway`'s checkpoints as the super node stored them, by height (hex).
    static func storedCheckpoints(
        _ cluster: PostgresCluster,
        database: String,
        gateway: String
    ) throws -> [(
        Int64, String
    )] {
        try cluster.psql(
            "SELECT height, encode(checkpoint, 'hex') FROM gateway_block WHERE gateway = decode('\(gateway)', 'hex') ORDER BY height",
            database: database
        ).split(separator: "\n").map { line in
            let parts = line.split(separator: "|")
            return (Int64(parts[0]) ?? -1, String(parts[1]))
        }
    }

    /// The checkpoints a gateway kept, by height (hex).
    static func keptCheckpoints(_ node: Node) async throws -> [(Int64, String)] {
        try await DatabaseQueue(path: node.directory + "/checkpoints.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT height, bytes FROM checkpoint ORDER BY height").map {
                ($0["height"] as Int64, ($0["bytes"] as Data).map { String(format: "%02x", $0) }.joined())
            }
        }
    }

    /// Every block of each gateway's chain checkpointed once, in order, the gateway kept the
    /// super node's bytes, and the log has one entry per checkpoint.
    static func expectEveryBlockCheckpointedOnce(_ cluster: PostgresCluster, _ nodes: [Node]) async throws {
        var total = 0
        for node in nodes {
            let stored = try await offThePool {
                try Self.storedCheckpoints(cluster, database: "grid", gateway: node.id)
            }
            let kept = try await Self.keptCheckpoints(node)
            #expect(!stored.isEmpty)
            #expect(stored.map(\.0) == Array(0..<Int64(stored.count)), "\(node.name): heights without a gap")
            #expect(kept.map(\.0) == stored.map(\.0), "\(node.name): the gateway kept every checkpoint")
            #expect(kept.map(\.1) == stored.map(\.1), "\(node.name): the same checkpoint at both ends")
            total += stored.count
        }
        let logSize = try await offThePool { try cluster.psql("SELECT size FROM log_head", database: "grid") }
        #expect(Int(logSize.trimmingCharacters(in: .whitespacesAndNewlines)) == total, "one log entry per checkpoint")
    }

    @Test("kill -9 of a replica mid-stream: the gateways move on, every checkpoint once and the same at both ends")
    func killOneReplicaMidStream() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await offThePool { try cluster.psql("CREATE DATABASE grid") }
        let store = "postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/grid"

        let world = try World()
        let initialised = try await runBinary("super-node", ["init", "--data", world.path("sn"), "--store", store])
        guard initialised.status == 0 else { throw Failure("super-node init: \(initialised.output)") }
        let second = try Self.replicaDirectory(world, from: world.path("sn"), "sn-b")
        let g1 = try await EscalationSystemTests.node(world, "g1", store: store)
        let g2 = try await EscalationSystemTests.node(world, "g2", store: store)
        _ = try await EscalationSystemTests.enroll(world, "home", role: "consumer", at: g1)
        let producer = try await EscalationSystemTests.enroll(world, "wind", role: "producer", at: g2)

        let (replicaA, urlA) = try await Self.serveReplica(world, world.path("sn"), store: store, log: "sn-a.log")
        let (replicaB, urlB) = try await Self.serveReplica(world, second, store: store, log: "sn-b.log")
        // G1 starts on A, G2 on B; each has the other as its next.
        let (gateway1, base1) = try await EscalationSystemTests.serve(world, g1, superNodes: [urlA, urlB])
        let (gateway2, base2) = try await EscalationSystemTests.serve(world, g2, superNodes: [urlB, urlA])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var home = UplinkSystemTests.Feeder(
            key: try KeyFile.readPrivateKey(from: world.path("home.key")),
            base: base1,
            gateway: try #require(GatewayID(hex: g1.id))
        )
        var wind = UplinkSystemTests.Feeder(
            key: try KeyFile.readPrivateKey(from: world.path("wind.key")),
            base: base2,
            gateway: try #require(GatewayID(hex: g2.id)),
            measurand: .energyExportWh,
            step: 1000
        )
        func uplink(_ base: String) async throws -> Uplink {
            try await UplinkSystemTests.json(base + "/v1/uplink", Uplink.self, client: client)
        }
        func feed(rounds: Int) async throws {
            for _ in 0..<rounds {
                #expect(try await home.feed(client: client))
                #expect(try await wind.feed(client: client))
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        do {
            try await feed(rounds: 10)
            try await UplinkSystemTests.waitFor("both gateways checkpointed through their first replica") {
                let (u1, u2) = (try await uplink(base1), try await uplink(base2))
                return (u1.lastCheckpointedHeight ?? 0) >= 2 && (u2.lastCheckpointedHeight ?? 0) >= 2
            }

            // Mid-stream: replica A dies; readings go on.
            let before = try await uplink(base1).lastCheckpointedHeight ?? 0
            replicaA.kill9()
            try await feed(rounds: 5)

            // An escalation during the failover: G1 has no producer, G2's producer offers.
            let offer = try await runBinary(
                "meter-agent",
                ["offer", "--key", world.path("wind.key"), "--gateway", base2, "--energy-wh", "4000", "--json"]
            )
            #expect(offer.status == 0, "\(offer.output)")
            let served = try await runBinary(
                "meter-agent",
                [
                    "request", "--key", world.path("home.key"), "--gateway", base1, "--energy-wh", "1000",
                    "--sequence", "7",
                ]
            )
            #expect(
                served.status == 0 && served.output.contains("request 7 served: 1000 Wh")
                    && served.output.contains(producer),
                "\(served.output)\n\(gateway1.logText.suffix(2000))"
            )
            try await feed(rounds: 10)

            // G1 moved to B by itself and caught up; then everything sealed is checkpointed.
            try await UplinkSystemTests.waitFor("G1 checkpointed through replica B") {
                (try await uplink(base1).lastCheckpointedHeight ?? 0) >= before + 3
            }
            #expect(gateway1.logText.contains(urlB), "G1 names the replica it moved to")
            for base in [base1, base2] {
                try await UplinkSystemTests.waitFor("every sealed block of \(base) checkpointed") {
                    let health = try await UplinkSystemTests.json(base + "/healthz", Health.self, client: client)
                    let u = try await uplink(base)
                    return health.pending == 0 && u.sealedHeight.map(Int64.init) == health.height
                        && u.lastCheckpointedHeight == u.sealedHeight
                }
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(gateway1.terminate() == 0, "\(gateway1.logText.suffix(3000))")
        #expect(gateway2.terminate() == 0, "\(gateway2.logText.suffix(3000))")

        try await Self.expectEveryBlockCheckpointedOnce(cluster, [g1, g2])
        #expect(replicaB.terminate() == 0, "\(replicaB.logText.suffix(3000))")
        let verified = try await runBinary("super-node", ["verify", "--data", second, "--store", store])
        #expect(verified.status == 0 && verified.output.contains("store OK"), "\(verified.output)")
    }

    /// A replica paused (SIGSTOP) while its gateway pushes: the gateway's request to it times
    /// out and it moves to the other; a transaction the paused one held is ended by the
    /// server after `--fence-after`; resumed (SIGCONT), it answers again and has committed
    /// nothing twice.
    @Test(
        "SIGSTOP of a replica mid-stream: the gateway moves on, the paused replica is fenced off and commits nothing twice"
    )
    func pauseOneReplicaMidStream() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await offThePool { try cluster.psql("CREATE DATABASE grid") }
        let store = "postgres://\(PostgresCluster.role)@127.0.0.1:\(cluster.port)/grid"
        let world = try World()
        let initialised = try await runBinary("super-node", ["init", "--data", world.path("sn"), "--store", store])
        guard initialised.status == 0 else { throw Failure("super-node init: \(initialised.output)") }
        let second = try Self.replicaDirectory(world, from: world.path("sn"), "sn-b")
        let g1 = try await EscalationSystemTests.node(world, "g1", store: store)
        _ = try await EscalationSystemTests.enroll(world, "home", role: "consumer", at: g1)
        let (replicaA, urlA) = try await Self.serveReplica(world, world.path("sn"), store: store, log: "sn-a.log")
        let (replicaB, urlB) = try await Self.serveReplica(world, second, store: store, log: "sn-b.log")
        let (gateway, base) = try await EscalationSystemTests.serve(world, g1, superNodes: [urlA, urlB])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var home = UplinkSystemTests.Feeder(
            key: try KeyFile.readPrivateKey(from: world.path("home.key")),
            base: base,
            gateway: try #require(GatewayID(hex: g1.id))
        )
        func uplink() async throws -> Uplink {
            try await UplinkSystemTests.json(base + "/v1/uplink", Uplink.self, client: client)
        }
        do {
            try await UplinkSystemTests.waitFor("checkpoints through replica A") {
                #expect(try await home.feed(client: client))
                return (try await uplink().lastCheckpointedHeight ?? 0) >= 2
            }
            let before = try await uplink().lastCheckpointedHeight ?? 0
            replicaA.signal(SIGSTOP)
            // The gateway's push to A waits for its request timeout (60 s), then goes to B.
            try await UplinkSystemTests.waitFor("checkpoints through replica B", timeout: .seconds(240)) {
                #expect(try await home.feed(client: client))
                try await Task.sleep(for: .milliseconds(200))
                return (try await uplink().lastCheckpointedHeight ?? 0) >= before + 3
            }
            replicaA.signal(SIGCONT)
            try await UplinkSystemTests.waitFor("every sealed block checkpointed") {
                let health = try await UplinkSystemTests.json(base + "/healthz", Health.self, client: client)
                let u = try await uplink()
                return health.pending == 0 && u.sealedHeight.map(Int64.init) == health.height
                    && u.lastCheckpointedHeight == u.sealedHeight
            }
            // A answers again, from the same store.
            let (status, _) = try await EndToEndTests.get(urlA + "/healthz", client: client)
            #expect(status == 200)
        } catch {
            replicaA.signal(SIGCONT)
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(gateway.terminate() == 0, "\(gateway.logText.suffix(3000))")
        try await Self.expectEveryBlockCheckpointedOnce(cluster, [g1])
        #expect(replicaA.terminate() == 0, "\(replicaA.logText.suffix(3000))")
        #expect(replicaB.terminate() == 0, "\(replicaB.logText.suffix(3000))")
        let verified = try await runBinary("super-node", ["verify", "--data", second, "--store", store])
        #expect(verified.status == 0 && verified.output.contains("store OK"), "\(verified.output)")
    }
}

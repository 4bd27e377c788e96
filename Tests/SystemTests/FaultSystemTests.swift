import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Faults with the real binaries, under load the whole time: emulated meters (a PTY bus
/// and a TCP bus) → meter agent → edge gateway → super node. Each component is killed
/// (`kill -9`) in turn and restarted; then a replayed block, tampered blocks and a revoked
/// certificate. Nothing acknowledged is lost, nothing is duplicated, every rejection is
/// named, and every chain verifies at the end.
@Suite("Faults with the real binaries", .serialized)
struct FaultSystemTests {
    typealias Grid = UplinkSystemTests.Grid
    typealias Uplink = UplinkSystemTests.Uplink
    typealias Health = UplinkSystemTests.Health
    typealias Failure = EndToEndTests.Failure

    struct Gateways: Decodable {
        struct Gateway: Decodable {
            var gateway: String
            var revoked: Bool
            var auditedHeight: UInt64?
            var auditedBlockHash: String?
        }
        var gateways: [Gateway]
    }

    /// What `POST /v1/blocks` answered.
    struct Pushed {
        var status: Int
        var body: [String: Any]
        var reason: String? { (body["rejected"] as? [String: Any])?["reason"] as? String }
        var checkpoints: [[String: Any]] { body["checkpoints"] as? [[String: Any]] ?? [] }
    }

    /// The four components, their logs (one file per start) and the HTTP client.
    final class Site: @unchecked Sendable {
        let grid: Grid
        var world: EndToEndTests.World { grid.world }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        /// Meter name → id.
        var meters: [String: String] = [:]
        var superNode: RunningProcess?
        var superURL = ""
        var gateway: RunningProcess?
        var base = ""
        var emulator: RunningProcess?
        var agent: RunningProcess?
        private var tcpPort = 0
        private var starts: [String: Int] = [:]

        init() async throws {
            grid = try await Grid()
            for (name, role) in [("house", "consumer"), ("pv", "producer"), ("shop", "consumer")] {
                meters[name] = try await grid.enroll(name, role: role)
            }
        }

        /// A new log file for each start of `name`: name-1.log, name-2.log, …
        private func nextLog(_ name: String) -> String {
            starts[name, default: 0] += 1
            return "\(name)-\(starts[name]!).log"
        }

        /// Everything `name` logged, over all its starts.
        func logs(_ name: String) -> String {
            (1...max(1, starts[name] ?? 0)).map {
                (try? String(contentsOfFile: world.path("\(name)-\($0).log"), encoding: .utf8)) ?? ""
            }.joined(separator: "\n")
        }

        static func port(_ url: String) -> String { String(url.split(separator: ":").last ?? "0") }

        func startSuperNode() async throws {
            let listen = "127.0.0.1:\(superURL.isEmpty ? "0" : Self.port(superURL))"
            (superNode, superURL) = try await grid.startSuperNode(listen: listen, log: nextLog("super-node"))
        }

        func startGateway(certificate: String? = nil) async throws {
            let listen = "127.0.0.1:\(base.isEmpty ? "0" : Self.port(base))"
            (gateway, base) = try await grid.startGateway(
                superNodeURL: superURL,
                listen: listen,
                certificate: certificate,
                log: nextLog("gateway")
            )
        }

        /// Three meters: two on a pseudo-terminal bus, one on Modbus TCP (the same port on
        /// every start once the first has picked one). Simulated time runs at real speed
        /// from now, so a restarted emulator's counters carry on where they were.
        func startEmulator() async throws {
            try """
            seed: 11
            speed: 1
            buses:
              - pty-link: \(world.path("bus"))
                meters:
                  - { profile: sdm630, unit: 1, role: consumer }
                  - { profile: sdm120, unit: 2, role: pv }
              - tcp: 127.0.0.1:\(tcpPort)
                meters:
                  - { profile: sdm120, unit: 3, role: consumer }
            """.write(toFile: world.path("fleet.yaml"), atomically: true, encoding: .utf8)
            let process = try RunningProcess(
                "meter-agent",
                ["emulate", "--config", world.path("fleet.yaml")],
                log: world.path(nextLog("emulator"))
            )
            emulator = process
            // "emulating meter" is logged once every bus is open (a killed emulator's link is stale until then).
            try await waitUntil("the emulator's buses") {
                process.logText.contains("emulating meter") || !process.process.isRunning
            }
            guard process.process.isRunning else { throw Failure("meter-agent emulate stopped: \(process.logText)") }
            if tcpPort == 0 {
                guard let match = process.logText.firstMatch(of: #/tcp 127\.0\.0\.1:(\d+)/#), let port = Int(match.1)
                else {
                    throw Failure("the emulator did not log its TCP port: \(process.logText)")
                }
                tcpPort = port
            }
        }

        /// One agent for the three meters, polling every 100 ms, on the same data directory every start.
        func startAgent() async throws {
            try """
            gateway: \(base)
            data: agent-data
            interval: 100ms
            buses:
              - device: \(world.path("bus"))
                meters:
                  - { unit: 1, profile: sdm630, key: house.key }
                  - { unit: 2, profile: sdm120, key: pv.key, role: producer }
              - tcp: 127.0.0.1:\(tcpPort)
                meters:
                  - { unit: 3, profile: sdm120, key: shop.key }
            """.write(toFile: world.path("agent.yaml"), atomically: true, encoding: .utf8)
            let process = try RunningProcess(
                "meter-agent",
                ["run", "--config", world.path("agent.yaml")],
                log: world.path(nextLog("agent"))
            )
            agent = process
            try await waitUntil("the agent") { process.logText.contains("agent started") || !process.process.isRunning }
            guard process.process.isRunning else { throw Failure("meter-agent run stopped: \(process.logText)") }
        }

        func uplink() async throws -> Uplink {
            try await UplinkSystemTests.json(base + "/v1/uplink", Uplink.self, client: client)
        }

        func audited() async throws -> Gateways.Gateway {
            let list = try await UplinkSystemTests.json(superURL + "/v1/gateways", Gateways.self, client: client)
            guard let gateway = list.gateways.first(where: { $0.gateway == grid.gatewayID }) else {
                throw Failure("the super node does not list the gateway")
            }
            return gateway
        }

        /// Waits until the gateway has accepted newer readings of every meter than it had when called.
        func readingsAdvance(_ what: String) async throws {
            let before = try await EndToEndTests.lastSequences(base, client: client)
            try await UplinkSystemTests.waitFor("readings of every meter after \(what)", timeout: .seconds(30)) {
                let now = try await EndToEndTests.lastSequences(base, client: client)
                return meters.values.allSatisfy { (now[$0] ?? 0) > (before[$0] ?? 0) }
            }
        }

        /// Waits until the super node has checkpointed blocks beyond the gateway's current tip.
        func checkpointsAdvance(_ what: String) async throws {
            let tip = try await UplinkSystemTests.json(base + "/healthz", Health.self, client: client).height ?? 0
            try await UplinkSystemTests.waitFor("checkpoints after \(what)") {
                let u = try await uplink()
                return u.state == "connected" && Int64(u.lastCheckpointedHeight ?? 0) > tip
            }
        }

        /// `POST /v1/blocks` with raw wire bytes and a certificate file, signed by the gateway's
        /// key as its uplink signs (a certificate alone proves nothing).
        func push(_ blocks: [[UInt8]], certificate: String) async throws -> Pushed {
            let cert = try SignedGatewayCertificate(fileText: String(contentsOfFile: certificate, encoding: .utf8))
            let body = try JSONSerialization.data(withJSONObject: [
                "certificate": Data(cert.bytes).base64EncodedString(),
                "blocks": blocks.map { Data($0).base64EncodedString() },
            ])
            let signature = try RequestSigning.headerValue(
                signer: KeyFile.readPrivateKey(from: world.gateway + "/gateway.key"),
                at: Int64(Date().timeIntervalSince1970 * 1000),
                endpoint: SuperNodeRoutes.blocks,
                body: Array(body)
            )
            let (status, data) = try await EndToEndTests.post(
                superURL + "/v1/blocks",
                json: body,
                headers: [(RequestSigning.header, signature)],
                client: client
            )
            return Pushed(status: status, body: try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:])
        }

        /// An accepted block as the super node stored it: hash, wire bytes and checkpoint.
        func acceptedBlock(height: UInt64) throws -> (hash: Data, block: [UInt8], checkpoint: Data) {
            try DatabaseQueue(path: grid.superNode + "/authority.sqlite").read { db in
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: "SELECT hash, block, checkpoint FROM gateway_block WHERE height = ?",
                        arguments: [Int64(height)]
                    )
                else {
                    throw Failure("the super node holds no block \(height)")
                }
                return (row["hash"], Array(row["block"] as Data), row["checkpoint"])
            }
        }

        func shutdown() async throws {
            try await client.shutdown()
            for process in [agent, emulator, gateway, superNode] { process?.terminate() }
        }
    }

    @Test(
        "kill -9 of each component under load, a replayed block, tampered blocks, a revoked certificate: nothing lost or duplicated, every chain verifies"
    )
    func faultsUnderLoad() async throws {
        let site = try await Site()
        do {
            try await run(site)
        } catch {
            try? await site.shutdown()
            throw error
        }
    }

    func run(_ site: Site) async throws {
        let world = site.world
        try await site.startSuperNode()
        try await site.startGateway()
        try await site.startEmulator()
        try await site.startAgent()
        try await site.readingsAdvance("the start")
        try await site.checkpointsAdvance("the start")

        // 1. The emulator dies: the PTY disappears under the agent (a broken serial line) and
        // the TCP meter stops answering. Restarted, the agent reconnects to both by itself.
        let readFailures = { site.agent!.logText.components(separatedBy: "meter read failed").count }
        let failuresBefore = readFailures()
        site.emulator?.kill9()
        // a line per meter
        try await waitUntil("the agent to notice the broken lines") { readFailures() >= failuresBefore + 3 }
        try await site.startEmulator()
        try await site.readingsAdvance("the emulator's restart")

        // 2. The agent dies; restarted on the same data directory its outbox resumes, and the
        // sequences continue (a gap or a repeat would be rejected, and `verify` would fail).
        site.agent?.kill9()
        try await site.startAgent()
        try await site.readingsAdvance("the agent's restart")

        // 3. The gateway dies; the agent keeps its readings and says why it retries. Restarted on
        // its data and port, the gateway takes them, and its uplink resumes from its checkpoints.
        site.gateway?.kill9()
        try await waitUntil("the agent to retry") {
            site.agent!.logText.contains("cannot deliver readings to the gateway; retrying")
        }
        try await site.startGateway()
        try await site.readingsAdvance("the gateway's restart")
        try await site.checkpointsAdvance("the gateway's restart")

        // 4. The super node dies for a while; the gateway's blocks wait and go in order once it is back.
        site.superNode?.kill9()
        var outage = try await site.uplink()
        try await UplinkSystemTests.waitFor("blocks waiting during the outage") {
            outage = try await site.uplink()
            return outage.state == "retrying" && outage.unacknowledgedBlocks >= 3
        }
        #expect(outage.lastError?.reason == "unreachable")
        try await site.startSuperNode()
        try await site.checkpointsAdvance("the super node's restart")

        // 5. A block replayed: the very checkpoint the gateway holds, byte for byte.
        let accepted = try site.acceptedBlock(height: 1)
        let replay = try await site.push([accepted.block], certificate: site.grid.certificate)
        #expect(replay.status == 200 && replay.reason == nil, "\(replay.body)")
        #expect(replay.checkpoints.first?["replayed"] as? Bool == true)
        let heldByGateway = try await DatabaseQueue(path: world.gateway + "/checkpoints.sqlite").read { db in
            try Data.fetchOne(db, sql: "SELECT bytes FROM checkpoint WHERE height = 1")
        }
        #expect(
            (replay.checkpoints.first?["checkpoint"] as? String).flatMap { Data(base64Encoded: $0) }
                == accepted.checkpoint
        )
        #expect(heldByGateway == accepted.checkpoint)

        // 6. A tampered copy of that accepted block (one byte of an entry's signature; the
        // header, and so the block hash, unchanged) is another block at that height: a fork.
        var copy = accepted.block
        copy[copy.count - 1] ^= 0x01
        let fork = try await site.push([copy], certificate: site.grid.certificate)
        #expect(fork.status == 409 && fork.reason == "fork", "\(fork.body)")
        #expect(fork.checkpoints.isEmpty)
        let after = try site.acceptedBlock(height: 1)
        #expect(
            after.block == accepted.block && after.checkpoint == accepted.checkpoint,
            "the accepted block is untouched"
        )

        // 7. The certificate revoked while everything runs: the gateway is refused and says so,
        // keeps taking readings, and its blocks wait.
        let revoked = try await runBinary(
            "super-node",
            ["revoke", "--data", site.grid.superNode, "--gateway", site.grid.gatewayID]
        )
        #expect(revoked.status == 0, "\(revoked.output)")
        var refused = try await site.uplink()
        try await UplinkSystemTests.waitFor("the refusal") {
            refused = try await site.uplink()
            return refused.state == "refused"
        }
        #expect(refused.lastError?.reason == "revoked-certificate")
        #expect(try await site.audited().revoked)
        try await site.readingsAdvance("the revocation")
        try await UplinkSystemTests.waitFor("blocks sealed after the refusal") {
            try await site.uplink().unacknowledgedBlocks >= 3
        }
        #expect(
            try await site.uplink().lastCheckpointedHeight == refused.lastCheckpointedHeight,
            "nothing is checkpointed while revoked"
        )
        #expect(site.logs("gateway").contains("revoked-certificate"), "\(site.gateway!.logText.suffix(2000))")

        // 8. A new certificate. Before the gateway uses it, tampered copies of its next block,
        // not yet accepted, are pushed under it: each is refused with its reason.
        let renewed = world.path("gw-2.cert")
        let certified = try await runBinary(
            "super-node",
            [
                "certify", "--data", site.grid.superNode, "--gateway-key", world.gateway + "/gateway.key.pub",
                "--name", "feeder-7", "--out", renewed,
            ]
        )
        #expect(certified.status == 0, "\(certified.output)")
        let before = try await site.audited()
        let auditedHeight = try #require(before.auditedHeight)
        let chain = try ChainStore(path: world.gateway + "/chain.sqlite", check: .none)
        let next = try #require(
            try chain.block(atHeight: auditedHeight + 1),
            "block \(auditedHeight + 1) is sealed, not yet accepted"
        )
        var flipped = next.wireBytes()
        flipped[flipped.count - 1] ^= 0x01  // an entry's signature
        let badSignature = try await site.push([flipped], certificate: renewed)
        #expect(badSignature.status == 422 && badSignature.reason == "bad-entry-signature", "\(badSignature.body)")
        // A reading re-signed with its meter's own key but with another value: every signature
        // holds, the block's Merkle root does not.
        let forged = try Self.resignOneReading(of: next, keys: ["house", "pv", "shop"].map { world.path("\($0).key") })
        let badRoot = try await site.push([forged.wireBytes()], certificate: renewed)
        #expect(badRoot.status == 422 && badRoot.reason == "merkle-root-mismatch", "\(badRoot.body)")
        let unchanged = try await site.audited()
        #expect(
            unchanged.auditedHeight == before.auditedHeight && unchanged.auditedBlockHash == before.auditedBlockHash,
            "the audit did not move"
        )

        // 9. Restarted with the new certificate, the gateway catches up.
        #expect(site.gateway?.terminate() == 0, "\(site.gateway!.logText.suffix(2000))")
        try await site.startGateway(certificate: renewed)
        try await site.readingsAdvance("the restart with the new certificate")
        try await site.checkpointsAdvance("the restart with the new certificate")

        // The end: the agent stops (SIGTERM: it flushes). Nothing acknowledged is lost, nothing is duplicated.
        #expect(site.agent?.terminate() == 0, "\(site.agent!.logText.suffix(2000))")
        let outbox = try EndToEndTests.outbox(world.path("agent-data"))
        #expect(outbox.pending == 0, "every reading acknowledged: \(site.agent!.logText.suffix(2000))")
        let atGateway = try await EndToEndTests.lastSequences(site.base, client: site.client)
        for (name, id) in site.meters {
            #expect(
                atGateway[id] == outbox.sequences[id],
                "\(name): the gateway holds every reading the agent made, no more"
            )
        }
        var tip: Int64 = -1
        try await UplinkSystemTests.waitFor("every sealed block checkpointed") {
            let health = try await UplinkSystemTests.json(site.base + "/healthz", Health.self, client: site.client)
            let u = try await site.uplink()
            tip = health.height ?? -1
            return health.pending == 0 && u.sealedHeight.map(Int64.init) == health.height
                && u.lastCheckpointedHeight == u.sealedHeight && u.unacknowledgedBlocks == 0
        }
        #expect(
            try await site.audited().auditedHeight.map(Int64.init) == tip,
            "the super node audited exactly the gateway's chain"
        )

        // Exactly one checkpoint per block, in order, the super node's bytes; the new serial after the revocation.
        struct Listed: Decodable {
            struct Entry: Decodable {
                var height: Int64
                var certificateSerial: UInt64
                var checkpoint: String
            }
            var checkpoints: [Entry]
        }
        let inspected = try await runBinary(
            "edge-gateway",
            ["inspect", "--data", world.gateway, "--json", "--from", "0", "--limit", "10000", "checkpoints"]
        )
        #expect(inspected.status == 0, "\(inspected.output)")
        let listed = try JSONDecoder().decode(Listed.self, from: Data(inspected.output.utf8)).checkpoints
        #expect(listed.map(\.height) == Array(0...tip))
        #expect(listed.first?.certificateSerial == 1 && listed.last?.certificateSerial == 2)
        #expect(listed.map(\.certificateSerial) == listed.map(\.certificateSerial).sorted())
        let atSuperNode = try await DatabaseQueue(path: site.grid.superNode + "/authority.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT height, checkpoint FROM gateway_block ORDER BY height").map {
                ($0["height"] as Int64, ($0["checkpoint"] as Data).base64EncodedString())
            }
        }
        #expect(atSuperNode.map(\.0) == Array(0...tip))
        #expect(atSuperNode.map(\.1) == listed.map(\.checkpoint))

        // Every rejection named, where operators look for it.
        let agentLogs = site.logs("agent")
        let gatewayLogs = site.logs("gateway")
        let superLogs = site.logs("super-node")
        #expect(agentLogs.contains("meter read failed"), "the broken lines are logged")
        #expect(agentLogs.contains("cannot deliver readings to the gateway; retrying"))
        #expect(
            !agentLogs.contains("rejected a reading") && !gatewayLogs.contains("rejected record"),
            "no reading was refused: no gap, no repeat"
        )
        #expect(
            gatewayLogs.contains("cannot push blocks to the super node") && gatewayLogs.contains("reason=unreachable"),
            "\(gatewayLogs.suffix(3000))"
        )
        #expect(gatewayLogs.contains("the super node refused the push (revoked-certificate)"))
        for reason in ["fork", "revoked-certificate", "bad-entry-signature", "merkle-root-mismatch"] {
            #expect(superLogs.contains("reason=\(reason)"), "the super node logs \(reason)")
        }

        try await site.shutdown()
        for process in [site.gateway, site.superNode, site.emulator] {
            #expect(process?.process.terminationStatus == 0)
        }
        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(verified.status == 0, "\(verified.output)")
    }

    /// `block` with one reading re-signed by its meter's key after changing a value that is
    /// not an energy counter: the entry is genuine, the block is not what the gateway sealed.
    static func resignOneReading(of block: Block, keys: [String]) throws -> Block {
        let identities = try keys.map { try KeyFile.readPrivateKey(from: $0) }
        var entries = block.entries
        for (index, entry) in entries.enumerated() {
            guard case .reading(let reading) = entry.record,
                let key = identities.first(where: { $0.id == reading.meter }),
                let value = reading.values.first(where: {
                    $0.measurand != .energyImportWh && $0.measurand != .energyExportWh
                })
            else { continue }
            let values = reading.values.map {
                $0.measurand == value.measurand ? MeasuredValue($0.measurand, $0.value + 1) : $0
            }
            let changed = try Reading(
                meter: reading.meter,
                gateway: reading.gateway,
                sequence: reading.sequence,
                timestamp: reading.timestamp,
                values: values,
                status: reading.status
            )
            entries[index] = try SignedRecord.sign(.reading(changed), with: key)
            return Block(header: block.header, entries: entries)
        }
        throw Failure("block \(block.height) holds no reading to re-sign")
    }
}

import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Gateway → super node with the real binaries: checkpoints, an outage, a revoked
/// certificate, and final receipts checked offline.
@Suite("Uplink to the super node with the real binaries", .serialized)
struct UplinkSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure

    struct Uplink: Decodable {
        struct LastError: Decodable {
            var reason: String
            var message: String
        }
        var configured: Bool
        var state: String
        var lastCheckpointedHeight: UInt64?
        var sealedHeight: UInt64?
        var unacknowledgedBlocks: UInt64
        var lastError: LastError?
    }

    struct Health: Decodable {
        var height: Int64?
        var pending: Int
    }

    /// A super node (initialised, serving) and a certified gateway data directory.
    struct Grid {
        let world: World
        var superNode: String { world.path("sn") }
        var certificate: String { world.path("gw.cert") }
        var gatewayID: String

        init() async throws {
            world = try World()
            let sn = try await runBinary("super-node", ["init", "--data", world.path("sn")])
            guard sn.status == 0 else { throw Failure("super-node init: \(sn.output)") }
            let gw = try await runBinary("edge-gateway", ["init", "--data", world.gateway])
            guard gw.status == 0 else { throw Failure("edge-gateway init: \(gw.output)") }
            let certified = try await runBinary(
                "super-node",
                [
                    "certify", "--data", world.path("sn"), "--gateway-key", world.gateway + "/gateway.key.pub",
                    "--name", "feeder-7", "--out", world.path("gw.cert"),
                ]
            )
            guard certified.status == 0 else { throw Failure("super-node certify: \(certified.output)") }
            gatewayID = try KeyFile.readPublicKey(from: world.gateway + "/gateway.key.pub").id.hex
        }

        func startSuperNode(
            listen: String = "127.0.0.1:0",
            log: String,
            arguments: [String] = []
        ) async throws -> (RunningProcess, String) {
            let urlFile = superNode + "/super-node.url"
            try? FileManager.default.removeItem(atPath: urlFile)
            let process = try RunningProcess(
                "super-node",
                ["serve", "--data", superNode, "--listen", listen] + arguments,
                log: world.path(log)
            )
            try await waitUntil("super-node.url") {
                FileManager.default.fileExists(atPath: urlFile) || !process.process.isRunning
            }
            guard process.process.isRunning else { throw Failure("super-node serve stopped: \(process.logText)") }
            return (
                process,
                try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            )
        }

        /// Starts `serve` with the uplink (`certificate`: default the first one issued);
        /// a `gateway.url` left by a killed server is removed first.
        func startGateway(
            superNodeURL: String,
            listen: String = "127.0.0.1:0",
            certificate: String? = nil,
            sealInterval: String = "300ms",
            log: String = "gateway.log"
        ) async throws -> (RunningProcess, String) {
            try? FileManager.default.removeItem(atPath: world.gateway + "/gateway.url")
            let process = try RunningProcess(
                "edge-gateway",
                [
                    "serve", "--data", world.gateway, "--listen", listen, "--seal-interval", sealInterval,
                    "--super-node", superNodeURL, "--certificate", certificate ?? self.certificate,
                ],
                log: world.path(log)
            )
            try await waitUntil("gateway.url") {
                FileManager.default.fileExists(atPath: world.gateway + "/gateway.url") || !process.process.isRunning
            }
            guard process.process.isRunning else { throw Failure("edge-gateway serve stopped: \(process.logText)") }
            return (process, try world.gatewayURL())
        }

        func enroll(_ name: String, role: String) async throws -> String {
            let id = try await world.keygen(name)
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", world.gateway, "--meter-key", world.path("\(name).key.pub"), "--role", role]
            )
            guard enrolled.status == 0 else { throw Failure("enroll: \(enrolled.output)") }
            return id
        }
    }

    static func json<T: Decodable>(_ url: String, _ type: T.Type, client: HTTPClient) async throws -> T {
        let (status, data) = try await EndToEndTests.get(url, client: client)
        guard status == 200 else {
            throw Failure("GET \(url): HTTP \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Waits for an async condition.
    static func waitFor(
        _ what: String,
        timeout: Duration = .seconds(60),
        _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test("blocks are checkpointed in order, an outage is caught up exactly once, receipts verify offline")
    func checkpointsOutageAndReceipts() async throws {
        let grid = try await Grid()
        let world = grid.world
        let meter = try await grid.enroll("house", role: "consumer")
        var (superNode, superURL) = try await grid.startSuperNode(log: "sn.log")
        let superPort = String(superURL.split(separator: ":").last ?? "")
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL)

        // An emulated meter and its agent keep readings flowing the whole time.
        let bus = world.path("bus")
        let emulator = try RunningProcess(
            "meter-agent",
            [
                "emulate", "--pty-link", bus, "--profile", "sdm120", "--unit", "3",
                "--seed", "7", "--start", "2026-06-21T11:00:00Z",
            ],
            log: world.path("emulator.log")
        )
        try await waitUntil("the emulated bus") { FileManager.default.fileExists(atPath: bus) }
        let agent = try RunningProcess(
            "meter-agent",
            [
                "run", "--device", bus, "--unit", "3", "--profile", "sdm120", "--key", world.path("house.key"),
                "--gateway", base, "--data", world.path("agent-data"), "--interval", "100ms",
            ],
            log: world.path("agent.log")
        )
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            // Checkpoints arrive and keep up with the chain.
            try await Self.waitFor("three checkpointed blocks") {
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.state == "connected" && (u.lastCheckpointedHeight ?? 0) >= 3
            }
            #expect(
                FileManager.default.fileExists(atPath: world.gateway + "/super-node-root.pub"),
                "the verified root key is kept"
            )
            #expect(
                try KeyFile.readPublicKey(from: world.gateway + "/super-node-root.pub")
                    == KeyFile.readPublicKey(from: grid.superNode + "/root.key.pub")
            )

            // The super node dies; the gateway goes on serving and its blocks wait.
            superNode.signal(SIGKILL)
            superNode.process.waitUntilExit()
            var atOutage = Uplink(configured: true, state: "", unacknowledgedBlocks: 0)
            try await Self.waitFor("the uplink to notice the outage") {
                atOutage = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return atOutage.state == "retrying"
            }
            #expect(atOutage.lastError?.reason == "unreachable")
            try await Self.waitFor("blocks sealed during the outage") {
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.unacknowledgedBlocks >= 4
            }
            #expect(gateway.logText.contains("cannot push blocks to the super node"))

            // Back on the same address: the gateway catches up by itself.
            (superNode, superURL) = try await grid.startSuperNode(listen: "127.0.0.1:\(superPort)", log: "sn-2.log")
            try await Self.waitFor("the catch-up") {
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.state == "connected" && u.unacknowledgedBlocks <= 1
                    && (u.lastCheckpointedHeight ?? 0) > (atOutage.sealedHeight ?? 0) + 3
            }
            #expect(gateway.logText.contains("the super node accepts pushes again"))

            // Readings stop; everything sealed gets checkpointed.
            #expect(agent.terminate() == 0, "\(agent.logText.suffix(2000))")
            var height: Int64 = -1
            try await Self.waitFor("every sealed block checkpointed") {
                let health = try await Self.json(base + "/healthz", Health.self, client: client)
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                height = health.height ?? -1
                return health.pending == 0 && u.sealedHeight.map(Int64.init) == health.height
                    && u.lastCheckpointedHeight == u.sealedHeight
            }
            let (_, metrics) = try await EndToEndTests.get(base + "/metrics", client: client)
            let text = String(decoding: metrics, as: UTF8.self)
            #expect(text.contains("gateway_uplink_checkpointed_height \(Double(height))"), "\(text)")
            #expect(text.contains("gateway_uplink_unacknowledged_blocks 0.0"))
            #expect(text.contains(#"gateway_uplink_push_failures_total{reason="unreachable"}"#))
            struct Gateways: Decodable {
                struct Gateway: Decodable {
                    var gateway: String
                    var auditedHeight: UInt64?
                    var url: String?
                }
                var gateways: [Gateway]
            }
            let audited = try await Self.json(superURL + "/v1/gateways", Gateways.self, client: client).gateways.first {
                $0.gateway == grid.gatewayID
            }
            #expect(
                audited?.auditedHeight.map(Int64.init) == height,
                "the super node audited exactly the gateway's chain"
            )
            #expect(audited?.url == base, "the gateway announced its bound URL")

            // Every block checkpointed exactly once, in order: the super node's checkpoints are the gateway's.
            let atSuperNode = try await DatabaseQueue(path: grid.superNode + "/authority.sqlite").read { db in
                try Row.fetchAll(db, sql: "SELECT height, checkpoint FROM gateway_block ORDER BY height").map {
                    ($0["height"] as Int64, $0["checkpoint"] as Data)
                }
            }
            let atGateway = try await DatabaseQueue(path: world.gateway + "/checkpoints.sqlite").read { db in
                try Row.fetchAll(db, sql: "SELECT height, bytes FROM checkpoint ORDER BY height").map {
                    ($0["height"] as Int64, $0["bytes"] as Data)
                }
            }
            #expect(atSuperNode.map(\.0) == Array(0...height))
            #expect(atGateway.map(\.0) == Array(0...height))
            #expect(atGateway.map(\.1) == atSuperNode.map(\.1), "one checkpoint per block, the super node's own bytes")
            let listed = try await runBinary("edge-gateway", ["inspect", "--data", world.gateway, "checkpoints"])
            #expect(
                listed.status == 0 && listed.output.contains("last checkpointed height \(height); 0 blocks wait"),
                "\(listed.output)"
            )
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(gateway.terminate() == 0, "\(gateway.logText.suffix(3000))")
        emulator.terminate()
        superNode.terminate()

        // A final receipt, checked offline against the root key only.
        let receipt = try await runBinary(
            "edge-gateway",
            ["inspect", "--data", world.gateway, "--json", "receipt", meter, "2"]
        )
        #expect(receipt.status == 0, "\(receipt.output)")
        try receipt.output.write(toFile: world.path("receipt.json"), atomically: true, encoding: .utf8)
        let human = try await runBinary("edge-gateway", ["inspect", "--data", world.gateway, "receipt", meter, "2"])
        #expect(human.output.contains("checkpointed by the super node"), "\(human.output)")
        let rootKey = grid.superNode + "/root.key.pub"
        let verified = try await runBinary(
            "edge-gateway",
            ["verify-receipt", world.path("receipt.json"), "--root-key", rootKey]
        )
        #expect(verified.status == 0 && verified.output.contains("receipt verified"), "\(verified.output)")

        // A tampered record, and the wrong root key, are refused with what is wrong.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(receipt.output.utf8)) as? [String: Any])
        let recordText = try #require(object["record"] as? String)
        var record = Array(try #require(Data(base64Encoded: recordText)))
        record[record.count - 1] ^= 0x01  // the signature: the record still decodes, its leaf hash changes
        object["record"] = Data(record).base64EncodedString()
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: world.path("tampered.json")))
        let tampered = try await runBinary(
            "edge-gateway",
            ["verify-receipt", world.path("tampered.json"), "--root-key", rootKey]
        )
        #expect(tampered.status == 2 && tampered.output.contains("Merkle proof does not lead"), "\(tampered.output)")
        _ = try await world.keygen("other")
        let wrongRoot = try await runBinary(
            "edge-gateway",
            ["verify-receipt", world.path("receipt.json"), "--root-key", world.path("other.key.pub")]
        )
        #expect(
            wrongRoot.status == 2 && wrongRoot.output.contains("the checkpoint is not the super node's"),
            "\(wrongRoot.output)"
        )

        #expect(try await runBinary("edge-gateway", ["verify", "--data", world.gateway]).status == 0)
    }

    @Test("a revoked certificate: the gateway keeps serving, logs revoked-certificate, blocks stay unacknowledged")
    func revokedCertificate() async throws {
        let grid = try await Grid()
        let world = grid.world
        _ = try await grid.enroll("house", role: "consumer")
        let meterKey = try KeyFile.readPrivateKey(from: world.path("house.key"))
        let (superNode, superURL) = try await grid.startSuperNode(log: "sn.log")
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var feeder = Feeder(key: meterKey, base: base, gateway: GatewayID(hex: grid.gatewayID))
        /// Plays the meter agent: one signed reading; true when the gateway accepted it.
        func feed() async throws -> Bool { try await feeder.feed(client: client) }
        do {
            try await Self.waitFor("checkpoints") {
                _ = try await feed()
                return
                    (try await Self.json(base + "/v1/uplink", Uplink.self, client: client).lastCheckpointedHeight ?? 0)
                    >= 1
            }
            let revoked = try await runBinary(
                "super-node",
                ["revoke", "--data", grid.superNode, "--gateway", grid.gatewayID]
            )
            #expect(revoked.status == 0, "\(revoked.output)")

            var refused = Uplink(configured: true, state: "", unacknowledgedBlocks: 0)
            try await Self.waitFor("the refusal") {
                #expect(try await feed(), "the gateway keeps accepting readings")
                refused = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return refused.state == "refused"
            }
            #expect(refused.lastError?.reason == "revoked-certificate")
            #expect(gateway.logText.contains("revoked-certificate"), "\(gateway.logText.suffix(2000))")
            #expect(gateway.logText.contains("--certificate NEWFILE"))
            try await Self.waitFor("blocks sealed after the revocation") {
                #expect(try await feed())
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.unacknowledgedBlocks >= 3
            }
            let later = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
            #expect(
                later.state == "refused" && later.lastCheckpointedHeight == refused.lastCheckpointedHeight,
                "nothing is checkpointed any more"
            )
            let (_, metrics) = try await EndToEndTests.get(base + "/metrics", client: client)
            let text = String(decoding: metrics, as: UTF8.self)
            #expect(text.contains(#"gateway_uplink_push_failures_total{reason="revoked-certificate"}"#), "\(text)")
            #expect(text.contains("gateway_uplink_unacknowledged_blocks"))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        // SIGTERM stops it in the middle of its wait after the refusal.
        #expect(gateway.terminate() == 0, "\(gateway.logText.suffix(2000))")
        #expect(
            gateway.logText.components(separatedBy: "the super node refused the push").count == 2,
            "the refusal is logged once, not per attempt"
        )
        superNode.terminate()
    }

    struct Checkpoints: Decodable {
        var lastCheckpointedHeight: UInt64?
        var sealedHeight: UInt64?
        var unacknowledgedBlocks: UInt64
    }

    struct Gateways: Decodable {
        struct Gateway: Decodable {
            var gateway: String
            var auditedHeight: UInt64?
            var url: String?
        }
        var gateways: [Gateway]
    }

    /// `edge-gateway inspect --json ARGS` on a stopped (or running) gateway's directory.
    static func inspect<T: Decodable>(_ directory: String, _ arguments: [String], as type: T.Type) async throws -> T {
        let result = try await runBinary("edge-gateway", ["inspect", "--data", directory, "--json"] + arguments)
        guard result.status == 0 else { throw Failure("inspect \(arguments): \(result.output)") }
        return try JSONDecoder().decode(T.self, from: Data(result.output.utf8))
    }

    /// The chain's tip height, from `inspect --json blocks`.
    static func tip(_ directory: String) async throws -> UInt64? {
        struct Blocks: Decodable { var tip: UInt64? }
        return try await inspect(directory, ["blocks"], as: Blocks.self).tip
    }

    /// Plays a consumer's meter agent: signed readings, one per call; true when accepted.
    struct Feeder {
        let key: SigningIdentity
        let base: String
        /// The gateway the readings are addressed to.
        let gateway: GatewayID?
        /// The register read, and what it grows by per reading (Wh).
        var measurand: Measurand = .energyImportWh
        var step: Int64 = 1
        var sequence: UInt64 = 0

        mutating func feed(client: HTTPClient) async throws -> Bool {
            sequence += 1
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let reading = try Reading(
                meter: key.id,
                gateway: gateway,
                sequence: sequence,
                timestamp: now,
                values: [MeasuredValue(measurand, Int64(sequence) * step)]
            )
            let batch = IngestBatch(records: [
                Data(try SignedRecord.sign(.reading(reading), with: key).bytes).base64EncodedString()
            ])
            let (status, data) = try await EndToEndTests.post(
                base + "/v1/readings",
                json: try JSONEncoder().encode(batch),
                client: client
            )
            guard status == 200 else { return false }
            return try JSONDecoder().decode(IngestResponse.self, from: data).results.first?.status == .accepted
        }
    }

    @Test("SIGTERM: the final block is pushed before the exit, so the super node has audited the gateway's whole chain")
    func finalPushOnSIGTERM() async throws {
        let grid = try await Grid()
        let world = grid.world
        _ = try await grid.enroll("house", role: "consumer")
        let (superNode, superURL) = try await grid.startSuperNode(log: "sn.log")
        // A long seal interval: the readings below stay pending until the stop seals them.
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL, sealInterval: "10m")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var feeder = Feeder(
            key: try KeyFile.readPrivateKey(from: world.path("house.key")),
            base: base,
            gateway: GatewayID(hex: grid.gatewayID)
        )
        do {
            // Everything sealed so far (genesis, enrollment) is checkpointed.
            try await Self.waitFor("the first checkpoints") {
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.state == "connected" && u.unacknowledgedBlocks == 0 && u.lastCheckpointedHeight != nil
            }
            for _ in 0..<5 { #expect(try await feeder.feed(client: client)) }
            let health = try await Self.json(base + "/healthz", Health.self, client: client)
            #expect(health.pending >= 5, "the readings wait for the final seal")
        } catch {
            try await client.shutdown()
            throw error
        }
        let before = try await #require(try Self.tip(world.gateway))
        #expect(await gateway.terminate(within: .seconds(60)) == 0, "\(gateway.logText.suffix(3000))")

        // The stop sealed a final block and pushed it before exiting.
        let tip = try await #require(try Self.tip(world.gateway))
        #expect(tip == before + 1, "the final seal made one more block")
        let checkpoints = try await Self.inspect(world.gateway, ["checkpoints"], as: Checkpoints.self)
        #expect(checkpoints.lastCheckpointedHeight == tip && checkpoints.unacknowledgedBlocks == 0, "\(checkpoints)")
        let audited = try await Self.json(superURL + "/v1/gateways", Gateways.self, client: client).gateways.first {
            $0.gateway == grid.gatewayID
        }
        #expect(audited?.auditedHeight == tip, "the super node audited the gateway's chain up to its final block")
        #expect(
            gateway.logText.contains("every sealed block is checkpointed by the super node"),
            "\(gateway.logText.suffix(2000))"
        )
        try await client.shutdown()
        #expect(superNode.terminate() == 0)
        #expect(try await runBinary("edge-gateway", ["verify", "--data", world.gateway]).status == 0)
    }

    @Test("a witness follows the real super node's checkpoint log: note by the published key, tiles to its root")
    func checkpointLogOfTheRealBinary() async throws {
        let grid = try await Grid()
        let world = grid.world
        _ = try await grid.enroll("house", role: "consumer")
        let (superNode, superURL) = try await grid.startSuperNode(
            log: "sn.log",
            arguments: ["--log-origin", "grid.test/super-node"]
        )
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await Self.waitFor("the first checkpoints") {
                let u = try await Self.json(base + "/v1/uplink", Uplink.self, client: client)
                return u.unacknowledgedBlocks == 0 && u.lastCheckpointedHeight != nil
            }
            let root = try await Self.json(superURL + "/v1/root", RootView.self, client: client)
            #expect(root.logOrigin == "grid.test/super-node")
            let key = try NoteKey(verifierKey: try #require(root.logVerifierKey))
            let (status, body) = try await EndToEndTests.get(superURL + "/checkpoint", client: client)
            #expect(status == 200)
            let note = try SignedNote(parsing: Array(body))
            try note.verify(by: key)
            let checkpoint = try LogCheckpoint(text: note.text)
            #expect(checkpoint.origin == "grid.test/super-node")
            let size = checkpoint.size
            try #require(size > 0 && size < 256)
            let (tileStatus, tile) = try await EndToEndTests.get(superURL + "/tile/0/000.p/\(size)", client: client)
            let (bundleStatus, bundle) = try await EndToEndTests.get(
                superURL + "/tile/entries/000.p/\(size)",
                client: client
            )
            #expect(tileStatus == 200 && bundleStatus == 200)
            let entries = try EntryBundle.decode(Array(bundle))
            #expect(entries.map { Merkle.leafHash($0).bytes }.joined().elementsEqual(tile))
            #expect(Merkle.root(leafHashes: entries.map { Merkle.leafHash($0) }) == checkpoint.rootHash)
            let checkpoints = try entries.map { try SignedCheckpoint(bytes: $0) }
            #expect(checkpoints.allSatisfy { $0.isSignatureValid(by: key.publicKey) })
            #expect(checkpoints.map(\.checkpoint.gateway.hex) == Array(repeating: grid.gatewayID, count: Int(size)))
            #expect(checkpoints.map(\.checkpoint.height) == Array(0..<size))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(await gateway.terminate(within: .seconds(60)) == 0)
        #expect(superNode.terminate() == 0)
    }

    @Test("SIGTERM with the super node down: the gateway still exits 0 and says how many blocks wait")
    func stopWithTheSuperNodeDown() async throws {
        let grid = try await Grid()
        let world = grid.world
        _ = try await grid.enroll("house", role: "consumer")
        let (superNode, superURL) = try await grid.startSuperNode(log: "sn.log")
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var feeder = Feeder(
            key: try KeyFile.readPrivateKey(from: world.path("house.key")),
            base: base,
            gateway: GatewayID(hex: grid.gatewayID)
        )
        do {
            try await Self.waitFor("the first checkpoints") {
                (try await Self.json(base + "/v1/uplink", Uplink.self, client: client).lastCheckpointedHeight) != nil
            }
            superNode.signal(SIGKILL)
            superNode.process.waitUntilExit()
            try await Self.waitFor("blocks sealed while the super node is down") {
                _ = try await feeder.feed(client: client)
                return try await Self.json(base + "/v1/uplink", Uplink.self, client: client).unacknowledgedBlocks >= 2
            }
            #expect(try await feeder.feed(client: client))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        // No assertion on time: only that it exits by itself, well within a generous limit.
        #expect(await gateway.terminate(within: .seconds(60)) == 0, "\(gateway.logText.suffix(3000))")
        let checkpoints = try await Self.inspect(world.gateway, ["checkpoints"], as: Checkpoints.self)
        #expect(checkpoints.unacknowledgedBlocks >= 2)
        let log = gateway.logText
        #expect(
            log.contains(
                "uplink stopped with \(checkpoints.unacknowledgedBlocks) sealed block(s) not acknowledged by the super node"
            ),
            "\(log.suffix(2000))"
        )
        #expect(log.contains("stopped cleanly"))
        #expect(try await runBinary("edge-gateway", ["verify", "--data", world.gateway]).status == 0)
    }
}

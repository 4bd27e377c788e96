import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Cross-gateway escalation with the real binaries: one super node, two certified gateways.
/// G1 has a consumer and no producer; G2 has a producer with metered, offered energy. A
/// request G1 cannot serve is escalated, committed at G2 and recorded on both chains.
@Suite("Escalation between two real gateways", .serialized)
struct EscalationSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure

    struct Gateways: Decodable {
        struct Gateway: Decodable {
            var gateway: String
            var auditedHeight: UInt64?
            var url: String?
        }
        var gateways: [Gateway]
    }

    struct TNT: Decodable {
        struct Producer: Decodable {
            var meter: String
            var tnt: UInt64
            var availableWh: UInt64
        }
        var producers: [Producer]
    }

    struct Health: Decodable { var pending: Int }

    /// `inspect --json block N`: what the test looks at.
    struct BlockJSON: Decodable {
        struct Entry: Decodable {
            struct Record: Decodable {
                struct Escalation: Decodable {
                    var side: String
                    var decisionID: UInt64
                    var consumerGateway: String
                    var consumer: String
                    var requestSequence: UInt64
                    var energyWh: UInt64
                    var producerGateway: String
                    var producer: String
                }
                var type: String
                var escalation: Escalation?
            }
            var bytes: String
            var record: Record
        }
        var entries: [Entry]
    }

    /// A certified gateway's data directory.
    struct Node {
        let name: String
        let directory: String
        let certificate: String
        let id: String
    }

    /// - Parameter store: the super node's `--store`, when it is not its directory's SQLite file.
    static func node(_ world: World, _ name: String, store: String? = nil) async throws -> Node {
        let directory = world.path(name)
        let made = try await runBinary("edge-gateway", ["init", "--data", directory])
        guard made.status == 0 else { throw Failure("edge-gateway init: \(made.output)") }
        let certified = try await runBinary(
            "super-node",
            [
                "certify", "--data", world.path("sn"), "--gateway-key", directory + "/gateway.key.pub",
                "--name", name, "--out", world.path("\(name).cert"),
            ] + (store.map { ["--store", $0] } ?? [])
        )
        guard certified.status == 0 else { throw Failure("super-node certify: \(certified.output)") }
        return Node(
            name: name,
            directory: directory,
            certificate: world.path("\(name).cert"),
            id: try KeyFile.readPublicKey(from: directory + "/gateway.key.pub").id.hex
        )
    }

    static func enroll(_ world: World, _ meter: String, role: String, at node: Node) async throws -> String {
        let id = try await world.keygen(meter)
        let enrolled = try await runBinary(
            "edge-gateway",
            ["enroll", "--data", node.directory, "--meter-key", world.path("\(meter).key.pub"), "--role", role]
        )
        guard enrolled.status == 0 else { throw Failure("enroll \(meter): \(enrolled.output)") }
        return id
    }

    static func serve(_ world: World, _ node: Node, superNode: String) async throws -> (RunningProcess, String) {
        try await serve(world, node, superNodes: [superNode])
    }

    /// `serve` with one `--super-node` per URL (replicas of one super node).
    static func serve(_ world: World, _ node: Node, superNodes: [String]) async throws -> (RunningProcess, String) {
        let urlFile = node.directory + "/gateway.url"
        let process = try RunningProcess(
            "edge-gateway",
            ["serve", "--data", node.directory, "--listen", "127.0.0.1:0", "--seal-interval", "300ms"]
                + superNodes.flatMap { ["--super-node", $0] } + ["--certificate", node.certificate],
            log: world.path("\(node.name).log")
        )
        try await waitUntil("\(node.name)'s gateway.url") {
            FileManager.default.fileExists(atPath: urlFile) || !process.process.isRunning
        }
        guard process.process.isRunning else { throw Failure("\(node.name) serve stopped: \(process.logText)") }
        return (
            process,
            try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }

    /// Every entry of a chain, block by block, through `inspect --json`.
    static func entries(_ directory: String) async throws -> [BlockJSON.Entry] {
        guard let tip = try await UplinkSystemTests.tip(directory) else { return [] }
        var entries: [BlockJSON.Entry] = []
        for height in 0...tip {
            entries += try await UplinkSystemTests.inspect(directory, ["block", "\(height)"], as: BlockJSON.self)
                .entries
        }
        return entries
    }

    @Test("a request G1 cannot serve is served by G2's producer, once, on both chains, and both chains are audited")
    func escalationAcrossTwoGateways() async throws {
        let world = try World()
        let sn = try await runBinary("super-node", ["init", "--data", world.path("sn")])
        guard sn.status == 0 else { throw Failure("super-node init: \(sn.output)") }
        let g1 = try await Self.node(world, "g1")
        let g2 = try await Self.node(world, "g2")
        let consumer = try await Self.enroll(world, "home", role: "consumer", at: g1)
        let producer = try await Self.enroll(world, "wind", role: "producer", at: g2)

        let superNode = try RunningProcess(
            "super-node",
            ["serve", "--data", world.path("sn"), "--listen", "127.0.0.1:0"],
            log: world.path("sn.log")
        )
        try await waitUntil("super-node.url") {
            FileManager.default.fileExists(atPath: world.path("sn/super-node.url")) || !superNode.process.isRunning
        }
        let superURL = try String(contentsOfFile: world.path("sn/super-node.url"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
        let (gateway1, base1) = try await Self.serve(world, g1, superNode: superURL)
        var (gateway2, base2) = try await Self.serve(world, g2, superNode: superURL)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let energy: UInt64 = 1500
        let second: UInt64 = 500
        let offered: UInt64 = 8000
        var decisionID: UInt64 = 0
        var secondID: UInt64 = 0
        do {
            // Both gateways have pushed, so the super node knows where to reach them.
            try await UplinkSystemTests.waitFor("both gateways' URLs at the super node") {
                let known = try await UplinkSystemTests.json(superURL + "/v1/gateways", Gateways.self, client: client)
                    .gateways
                return known.first { $0.gateway == g1.id }?.url == base1
                    && known.first { $0.gateway == g2.id }?.url == base2
            }

            // G2's producer: metered export (two signed readings, 10 kWh apart), then an offer within it.
            let wind = try KeyFile.readPrivateKey(from: world.path("wind.key"))
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let readings = try [(1, 1000), (2, 11000)].map { sequence, export in
                let reading = try Reading(
                    meter: wind.id,
                    gateway: GatewayID(hex: g2.id),
                    sequence: UInt64(sequence),
                    timestamp: now - 1000 + Int64(sequence),
                    values: [MeasuredValue(.energyExportWh, Int64(export))]
                )
                return Data(try SignedRecord.sign(.reading(reading), with: wind).bytes).base64EncodedString()
            }
            let (status, body) = try await EndToEndTests.post(
                base2 + "/v1/readings",
                json: try JSONEncoder().encode(IngestBatch(records: readings)),
                client: client
            )
            let ingested = try JSONDecoder().decode(IngestResponse.self, from: body)
            #expect(
                status == 200 && ingested.results.allSatisfy { $0.status == .accepted },
                "\(String(decoding: body, as: UTF8.self))"
            )
            let offer = try await runBinary(
                "meter-agent",
                ["offer", "--key", world.path("wind.key"), "--gateway", base2, "--energy-wh", "\(offered)", "--json"]
            )
            #expect(offer.status == 0, "\(offer.output)")
            #expect(
                try JSONDecoder().decode(OfferResponse.self, from: Data(offer.output.utf8)).creditedWh == offered,
                "\(offer.output)"
            )
            let tntBefore = try #require(
                try await UplinkSystemTests.json(base2 + "/v1/tnt", TNT.self, client: client).producers.first {
                    $0.meter == producer
                }
            )

            // The consumer asks its own gateway, which has no producer: the super node serves it from G2.
            let sequence: UInt64 = 7
            let served = try await runBinary(
                "meter-agent",
                [
                    "request", "--key", world.path("home.key"), "--gateway", base1,
                    "--energy-wh", "\(energy)", "--sequence", "\(sequence)",
                ]
            )
            #expect(served.status == 0, "\(served.output)\n\(gateway1.logText.suffix(2000))")
            #expect(served.output.contains("request \(sequence) served: \(energy) Wh"), "\(served.output)")
            #expect(served.output.contains(producer), "names the remote producer: \(served.output)")
            #expect(
                served.output.contains("escalated by the super node: producer of gateway \(g2.id)"),
                "\(served.output)"
            )

            // G2 debited its producer and counted the served request.
            let tntAfter = try #require(
                try await UplinkSystemTests.json(base2 + "/v1/tnt", TNT.self, client: client).producers.first {
                    $0.meter == producer
                }
            )
            #expect(tntAfter.tnt == tntBefore.tnt + 1)
            #expect(tntAfter.availableWh == tntBefore.availableWh - energy)

            // The very same signed request sent again: the same decision, nothing decided twice.
            try await UplinkSystemTests.waitFor("G1 to seal the request") {
                try await UplinkSystemTests.json(base1 + "/healthz", Health.self, client: client).pending == 0
            }
            let request = try await #require(
                try Self.entries(g1.directory).first { entry in
                    guard let bytes = Data(base64Encoded: entry.bytes),
                        case let .request(r) = try SignedRecord(bytes: Array(bytes)).record
                    else { return false }
                    return r.sequence == sequence
                }
            )
            let escalation = try await #require(
                try Self.entries(g1.directory).compactMap(\.record.escalation).first,
                "G1's chain has the consumer side"
            )
            decisionID = escalation.decisionID
            for _ in 0..<2 {
                let (resentStatus, resentBody) = try await EndToEndTests.post(
                    base1 + "/v1/requests",
                    json: try JSONEncoder().encode(TradeSubmission(record: request.bytes)),
                    client: client
                )
                let resent = try JSONDecoder().decode(DispatchResponse.self, from: resentBody)
                #expect(
                    resentStatus == 200 && resent.status == .duplicate,
                    "\(String(decoding: resentBody, as: UTF8.self))"
                )
                #expect(
                    resent.escalation?.decisionID == decisionID && resent.escalation?.producer == producer
                        && resent.escalation?.producerGateway == g2.id
                )
                #expect(resent.shares.map(\.producer) == [producer] && resent.shares.map(\.energyWh) == [energy])
            }
            let tntResent = try #require(
                try await UplinkSystemTests.json(base2 + "/v1/tnt", TNT.self, client: client).producers.first {
                    $0.meter == producer
                }
            )
            #expect(
                tntResent.tnt == tntAfter.tnt && tntResent.availableWh == tntAfter.availableWh,
                "a resend is never debited again"
            )

            // G2 restarts on another port (its chain now ends with the escalation, so it has nothing
            // new to push): it announces its new URL all the same, and the next escalation reaches it.
            let oldBase2 = base2
            #expect(await gateway2.terminate(within: .seconds(60)) == 0, "\(gateway2.logText.suffix(3000))")
            (gateway2, base2) = try await Self.serve(world, g2, superNode: superURL)
            try await UplinkSystemTests.waitFor(
                "G2's new URL at the super node (was \(oldBase2))",
                timeout: .seconds(30)
            ) {
                let known = try await UplinkSystemTests.json(superURL + "/v1/gateways", Gateways.self, client: client)
                    .gateways
                return known.first { $0.gateway == g2.id }?.url == base2
            }
            let again = try await runBinary(
                "meter-agent",
                [
                    "request", "--key", world.path("home.key"), "--gateway", base1, "--energy-wh", "\(second)",
                    "--sequence", "\(sequence + 1)", "--json",
                ]
            )
            #expect(again.status == 0, "\(again.output)\n\(gateway1.logText.suffix(2000))")
            let againAnswer = try JSONDecoder().decode(DispatchResponse.self, from: Data(again.output.utf8))
            #expect(
                againAnswer.escalation?.producer == producer && againAnswer.escalation?.producerGateway == g2.id,
                "\(again.output)"
            )
            secondID = try #require(againAnswer.escalation?.decisionID)
            #expect(secondID > decisionID)
            let tntSecond = try #require(
                try await UplinkSystemTests.json(base2 + "/v1/tnt", TNT.self, client: client).producers.first {
                    $0.meter == producer
                }
            )
            #expect(tntSecond.tnt == tntAfter.tnt + 1 && tntSecond.availableWh == tntAfter.availableWh - second)

            // More than anything anywhere: unserved, exit 3, with the reason.
            let unserved = try await runBinary(
                "meter-agent",
                [
                    "request", "--key", world.path("home.key"), "--gateway", base1,
                    "--energy-wh", "1000000", "--sequence", "\(sequence + 2)",
                ]
            )
            #expect(unserved.status == 3, "\(unserved.output)")
            #expect(
                unserved.output.contains("unserved") && unserved.output.contains("escalated to the super node")
                    && unserved.output.contains("1000000 Wh"),
                "\(unserved.output)"
            )
            let tntLast = try #require(
                try await UplinkSystemTests.json(base2 + "/v1/tnt", TNT.self, client: client).producers.first {
                    $0.meter == producer
                }
            )
            #expect(tntLast.tnt == tntSecond.tnt && tntLast.availableWh == tntSecond.availableWh)
        } catch {
            try await client.shutdown()
            throw error
        }

        // A clean stop pushes each gateway's final block: the super node has audited both chains to their tips.
        #expect(await gateway1.terminate(within: .seconds(60)) == 0, "\(gateway1.logText.suffix(3000))")
        #expect(await gateway2.terminate(within: .seconds(60)) == 0, "\(gateway2.logText.suffix(3000))")
        let known = try await UplinkSystemTests.json(superURL + "/v1/gateways", Gateways.self, client: client).gateways
        try await client.shutdown()
        for node in [g1, g2] {
            let tip = try await UplinkSystemTests.tip(node.directory)
            #expect(
                tip != nil && known.first { $0.gateway == node.id }?.auditedHeight == tip,
                "\(node.name): audited up to its tip \(String(describing: tip))"
            )
        }
        #expect(superNode.terminate() == 0)

        // Both chains carry the decision, each on its side, and verify by themselves.
        let consumerSide = try await Self.entries(g1.directory).compactMap(\.record.escalation)
        let producerSide = try await Self.entries(g2.directory).compactMap(\.record.escalation)
        #expect(
            consumerSide.map(\.decisionID) == [decisionID, secondID]
                && producerSide.map(\.decisionID) == [decisionID, secondID],
            "each decision once on each chain"
        )
        for (records, side) in [(consumerSide, "consumer"), (producerSide, "producer")] {
            for (record, (wh, requested)) in zip(records, [(energy, UInt64(7)), (second, UInt64(8))]) {
                #expect(
                    record.side == side && record.consumer == consumer && record.producer == producer
                        && record.consumerGateway == g1.id
                        && record.producerGateway == g2.id && record.energyWh == wh
                        && record.requestSequence == requested,
                    "\(side) side: \(record)"
                )
            }
        }
        for node in [g1, g2] {
            let verified = try await runBinary("edge-gateway", ["verify", "--data", node.directory])
            #expect(verified.status == 0, "\(node.name): \(verified.output)")
        }
        // The super node decided once.
        let decisions = try await DatabaseQueue(path: world.path("sn/authority.sqlite")).read { db in
            try Row.fetchAll(db, sql: "SELECT decision_id, status FROM escalation ORDER BY decision_id").map {
                ($0["decision_id"] as UInt64, $0["status"] as String)
            }
        }
        #expect(
            decisions.map(\.0) == [decisionID, secondID] && decisions.map(\.1) == ["committed", "committed"],
            "\(decisions)"
        )

        // A restarted super node replays both audited chains, escalation records included.
        try? FileManager.default.removeItem(atPath: world.path("sn/super-node.url"))
        let restarted = try RunningProcess(
            "super-node",
            ["serve", "--data", world.path("sn"), "--listen", "127.0.0.1:0"],
            log: world.path("sn-2.log")
        )
        try await waitUntil("the restarted super node's URL", timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: world.path("sn/super-node.url")) || !restarted.process.isRunning
        }
        #expect(restarted.process.isRunning, "\(restarted.logText)")
        #expect(restarted.terminate() == 0, "\(restarted.logText)")
    }
}

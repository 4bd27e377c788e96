import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import NIOCore
import TestSupport
import Testing

/// Emulated meters → meter agents → edge gateway, with the real binaries.
@Suite("End to end with the real binaries", .serialized)
struct EndToEndTests {
    /// A work directory with keys, a gateway data directory and agent data.
    struct World {
        let root: String
        var gateway: String { root + "/gw" }
        func path(_ name: String) -> String { root + "/" + name }

        init() throws {
            root = makeTempDir(prefix: "gl-e2e")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        }

        func keygen(_ name: String) async throws -> String {
            let result = try await runBinary("meter-agent", ["keygen", "--out", path("\(name).key")])
            guard result.status == 0,
                let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("meter id ") })
            else {
                throw Failure("keygen failed: \(result.output)")
            }
            return String(line.dropFirst("meter id ".count))
        }

        func gatewayURL() throws -> String {
            try String(contentsOfFile: gateway + "/gateway.url", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func get(_ url: String, client: HTTPClient) async throws -> (Int, Data) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 32 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    static func post(
        _ url: String,
        json: Data,
        headers: [(String, String)] = [],
        client: HTTPClient
    ) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: json))
        let response = try await client.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 32 << 20)
        return (Int(response.status.code), Data(body.readableBytesView))
    }

    /// meter id → last accepted sequence, from GET /v1/meters.
    static func lastSequences(_ base: String, client: HTTPClient) async throws -> [String: UInt64] {
        struct Meters: Decodable {
            struct Meter: Decodable {
                let id: String
                let lastSequence: UInt64
            }
            let meters: [Meter]
        }
        let (status, data) = try await get(base + "/v1/meters", client: client)
        guard status == 200 else { throw Failure("GET /v1/meters: HTTP \(status)") }
        return Dictionary(
            uniqueKeysWithValues: try JSONDecoder().decode(Meters.self, from: data).meters.map {
                ($0.id, $0.lastSequence)
            }
        )
    }

    /// The outbox's state: unacknowledged readings, and meter → last sequence given.
    static func outbox(_ directory: String) throws -> (pending: Int, sequences: [String: UInt64]) {
        let queue = try DatabaseQueue(path: directory + "/outbox.sqlite")
        return try queue.read { db in
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? -1
            let rows = try Row.fetchAll(db, sql: "SELECT meter, last_sequence FROM meter_sequence")
            return (
                pending,
                Dictionary(uniqueKeysWithValues: rows.map { ($0["meter"] as String, $0["last_sequence"] as UInt64) })
            )
        }
    }

    @Test(
        "every reading reaches the chain exactly once through a gateway crash; bad input is rejected; tampering is found"
    )
    func endToEnd() async throws {
        let world = try World()
        let house = try await world.keygen("house")
        let pv = try await world.keygen("pv")
        let stranger = try await world.keygen("stranger")

        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        #expect(
            try await runBinary(
                "edge-gateway",
                [
                    "enroll", "--data", world.gateway, "--meter-key", world.path("house.key.pub"),
                    "--role", "consumer",
                ]
            ).status == 0
        )
        #expect(
            try await runBinary(
                "edge-gateway",
                [
                    "enroll", "--data", world.gateway, "--meter-key", world.path("pv.key.pub"),
                    "--role", "producer",
                ]
            ).status == 0
        )

        // Three emulated meters on one pseudo-terminal bus.
        let bus = world.path("bus")
        try """
        seed: 5
        speed: 60
        start: 2026-06-21T10:00:00Z
        buses:
          - pty-link: \(bus)
            meters:
              - { profile: sdm630, unit: 1, role: consumer }
              - { profile: sdm120, unit: 2, role: pv }
              - { profile: sdm120, unit: 3, role: consumer }
        """.write(toFile: world.path("fleet.yaml"), atomically: true, encoding: .utf8)
        let emulator = try RunningProcess(
            "meter-agent",
            ["emulate", "--config", world.path("fleet.yaml")],
            log: world.path("emulator.log")
        )
        try await waitUntil("the emulated bus") { FileManager.default.fileExists(atPath: bus) }

        var gateway = try RunningProcess(
            "edge-gateway",
            [
                "serve", "--data", world.gateway, "--listen", "127.0.0.1:0",
                "--seal-interval", "300ms", "--seal-size", "40",
            ],
            log: world.path("gateway.log")
        )
        try await waitUntil("gateway.url") { FileManager.default.fileExists(atPath: world.gateway + "/gateway.url") }
        let base = try world.gatewayURL()
        let port = base.split(separator: ":").last.map(String.init) ?? ""

        // One agent for the two enrolled meters; one for a meter the gateway does not know.
        try """
        gateway: \(base)
        data: agent-data
        interval: 100ms
        buses:
          - device: \(bus)
            meters:
              - { unit: 1, profile: sdm630, key: house.key }
              - { unit: 2, profile: sdm120, key: pv.key }
        """.write(toFile: world.path("agent.yaml"), atomically: true, encoding: .utf8)
        let agent = try RunningProcess(
            "meter-agent",
            ["run", "--config", world.path("agent.yaml")],
            log: world.path("agent.log")
        )
        let strangerAgent = try RunningProcess(
            "meter-agent",
            [
                "run", "--device", bus, "--unit", "3", "--profile", "sdm120", "--key", world.path("stranger.key"),
                "--gateway", base, "--data", world.path("stranger-data"), "--interval", "200ms",
            ],
            log: world.path("stranger.log")
        )

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await waitUntil("readings at the gateway") {
                FileManager.default.fileExists(atPath: world.gateway + "/chain.sqlite")
                    && (try? String(contentsOfFile: world.path("agent.log"), encoding: .utf8))?.contains(
                        "agent started"
                    ) == true
            }
            try await Task.sleep(for: .seconds(2))

            // The gateway dies without warning while the agents keep polling.
            gateway.signal(SIGKILL)
            gateway.process.waitUntilExit()
            try await Task.sleep(for: .seconds(1))
            gateway = try RunningProcess(
                "edge-gateway",
                [
                    "serve", "--data", world.gateway, "--listen", "127.0.0.1:\(port)",
                    "--seal-interval", "300ms", "--seal-size", "40",
                ],
                log: world.path("gateway-2.log")
            )
            try await waitUntil("the restarted gateway") {
                gateway.logText.contains(port) || !gateway.process.isRunning
            }
            #expect(gateway.process.isRunning, "the gateway restarts on its data: \(gateway.logText)")
            try await Task.sleep(for: .seconds(2))

            // Forged, replayed and malformed input, straight to the API.
            let houseKey = try KeyFile.readPrivateKey(from: world.path("house.key"))
            let forged = try SignedRecord.sign(
                .reading(
                    Reading(
                        meter: houseKey.id,
                        sequence: 999_999,
                        timestamp: 0,
                        values: [MeasuredValue(.energyImportWh, 1)]
                    )
                ),
                with: houseKey
            )
            var forgedBytes = forged.bytes
            forgedBytes[forgedBytes.count - 1] ^= 0x01
            let (forgedStatus, forgedBody) = try await Self.post(
                base + "/v1/readings",
                json: try JSONEncoder().encode(IngestBatch(records: [Data(forgedBytes).base64EncodedString()])),
                client: client
            )
            #expect(forgedStatus == 200)
            let forgedAnswer = try JSONDecoder().decode(IngestResponse.self, from: forgedBody)
            #expect(
                forgedAnswer.results.first?.reason == .badSignature,
                "\(String(decoding: forgedBody, as: UTF8.self))"
            )

            let (malformedStatus, malformedBody) = try await Self.post(
                base + "/v1/readings",
                json: Data("{\"records\": 7".utf8),
                client: client
            )
            #expect(malformedStatus == 400, "\(String(decoding: malformedBody, as: UTF8.self))")

            // Stop the agents: they flush; the stranger's readings stay queued.
            #expect(agent.terminate() == 0, "\(agent.logText)")
            #expect(strangerAgent.terminate() == 0)
            let delivered = try Self.outbox(world.path("agent-data"))
            #expect(delivered.pending == 0, "every reading acknowledged: \(agent.logText.suffix(2000))")
            #expect(delivered.sequences[house] ?? 0 > 5)
            #expect(delivered.sequences[pv] ?? 0 > 5)
            #expect(strangerAgent.logText.contains("unknown-meter"))
            #expect(
                try Self.outbox(world.path("stranger-data")).pending > 0,
                "an unknown meter's readings are kept, not dropped"
            )

            // The gateway holds exactly what each agent produced: last sequence = agent's, no gap (verify).
            let atGateway = try await Self.lastSequences(base, client: client)
            #expect(atGateway[house] == delivered.sequences[house])
            #expect(atGateway[pv] == delivered.sequences[pv])
            #expect(atGateway[stranger] == nil)

            // A replay of an accepted reading is acknowledged as a duplicate, not stored twice.
            let first = try await Self.get(base + "/v1/readings/\(house)/1/receipt", client: client)
            #expect(first.0 == 200, "\(String(decoding: first.1, as: UTF8.self))")
            if let receipt = try JSONSerialization.jsonObject(with: first.1) as? [String: Any],
                let record = receipt["record"] as? String
            {
                let (_, replayBody) = try await Self.post(
                    base + "/v1/readings",
                    json: try JSONEncoder().encode(IngestBatch(records: [record])),
                    client: client
                )
                let replay = try JSONDecoder().decode(IngestResponse.self, from: replayBody)
                #expect(replay.results.first?.status == .duplicate)
            } else {
                Issue.record("receipt without the record bytes: \(String(decoding: first.1, as: UTF8.self))")
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()

        #expect(gateway.terminate() == 0, "\(gateway.logText)")
        emulator.terminate()

        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(verified.status == 0, "\(verified.output)")

        // One byte of a stored reading changed on disk: verify fails and names the place.
        let chain = try DatabaseQueue(path: world.gateway + "/chain.sqlite")
        try await chain.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT idx, bytes FROM entry WHERE type = 1 ORDER BY idx LIMIT 1 OFFSET 3"
                )
            else {
                throw Failure("no reading in the store")
            }
            var bytes = [UInt8](row["bytes"] as Data)
            bytes[bytes.count / 2] ^= 0x40
            try db.execute(
                sql: "UPDATE entry SET bytes = ? WHERE idx = ?",
                arguments: [Data(bytes), row["idx"] as Int64]
            )
        }
        let tampered = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(tampered.status != 0)
        #expect(tampered.output.contains("entry") || tampered.output.contains("height"), "\(tampered.output)")
    }
}

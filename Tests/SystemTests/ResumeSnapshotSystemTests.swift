import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// The real `edge-gateway` starting from its resume snapshot (issue 14, point 1): refused
/// when the snapshot disagrees with the tip, resumed after kill -9 while sealing under load,
/// and a store written before snapshots verified once and given one.
@Suite("Resume snapshot with the real binary", .serialized)
struct ResumeSnapshotSystemTests {
    typealias World = EndToEndTests.World

    /// A data directory with `count` consumer meters enrolled through the binary.
    static func enrolledWorld(meters count: Int) async throws -> (World, [SigningIdentity]) {
        let world = try World()
        let initialised = try await runBinary("edge-gateway", ["init", "--data", world.gateway])
        guard initialised.status == 0 else { throw EndToEndTests.Failure("init: \(initialised.output)") }
        var keys: [SigningIdentity] = []
        for i in 0..<count {
            _ = try await world.keygen("m\(i)")
            keys.append(try KeyFile.readPrivateKey(from: world.path("m\(i).key")))
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", world.gateway, "--meter-key", world.path("m\(i).key.pub"), "--role", "consumer"]
            )
            guard enrolled.status == 0 else { throw EndToEndTests.Failure("enroll: \(enrolled.output)") }
        }
        return (world, keys)
    }

    /// Starts `serve` and waits until it listens (or exits).
    static func serve(_ world: World, log: String, _ extra: [String] = []) async throws -> RunningProcess {
        try? FileManager.default.removeItem(atPath: world.gateway + "/gateway.url")
        let gateway = try RunningProcess(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "127.0.0.1:0"] + extra,
            log: world.path(log)
        )
        try await waitUntil("the gateway (\(log))") {
            FileManager.default.fileExists(atPath: world.gateway + "/gateway.url") || !gateway.process.isRunning
        }
        return gateway
    }

    static func execute(_ world: World, _ sql: String) throws {
        let queue = try DatabaseQueue(path: world.gateway + "/chain.sqlite")
        try queue.write { try $0.execute(sql: sql) }
    }

    @Test func aSnapshotThatDisagreesWithTheTipIsRefusedWithOneLine() async throws {
        let (world, _) = try await Self.enrolledWorld(meters: 1)
        // Block 0 holds the enrollment (tree size 1, so one frontier hash): the TNT state starts
        // after type, version, tip (58 bytes), the frontier (32) and the gateway key (32); its
        // offer tolerance (0) follows the policy byte. Make it 7 Wh.
        let queue = try DatabaseQueue(path: world.gateway + "/chain.sqlite")
        try await queue.write { db in
            var bytes = [UInt8](try #require(try Data.fetchOne(db, sql: "SELECT bytes FROM resume_snapshot")))
            #expect(bytes[130] == 0)
            bytes[130] = 7
            try db.execute(sql: "UPDATE resume_snapshot SET bytes = ?", arguments: [Data(bytes)])
        }
        let gateway = try RunningProcess(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "127.0.0.1:0"],
            log: world.path("refused.log")
        )
        try await waitUntil("the gateway to refuse") { !gateway.process.isRunning }
        #expect(gateway.process.terminationStatus != 0)
        let path = world.gateway + "/chain.sqlite"
        let lines = gateway.logText.split(separator: "\n").filter { $0.contains("resume snapshot") }
        #expect(lines.count == 1, "\(gateway.logText)")
        #expect(lines.first?.contains(path) == true, "\(gateway.logText)")
        #expect(lines.first?.contains("digest of its TNT state") == true, "\(gateway.logText)")
        #expect(!FileManager.default.fileExists(atPath: world.gateway + "/gateway.url"))
        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(verified.status != 0)
        #expect(verified.output.contains("resume snapshot"), "\(verified.output)")
    }

    @Test func aStoreWithoutSnapshotIsVerifiedOnceAndGetsOne() async throws {
        let (world, _) = try await Self.enrolledWorld(meters: 2)
        try Self.execute(world, "DELETE FROM resume_snapshot")
        let before = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(before.status == 0 && before.output.contains("no resume snapshot yet"), "\(before.output)")
        let first = try await Self.serve(world, log: "first.log")
        #expect(first.process.isRunning, "\(first.logText)")
        #expect(first.logText.contains("no resume snapshot"), "\(first.logText)")
        #expect(first.logText.contains("wrote the resume snapshot"), "\(first.logText)")
        #expect(first.terminate() == 0)
        let queue = try DatabaseQueue(path: world.gateway + "/chain.sqlite")
        let rows = try await queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM resume_snapshot") }
        #expect(rows == 1)
        let second = try await Self.serve(world, log: "second.log")
        #expect(second.process.isRunning, "\(second.logText)")
        #expect(!second.logText.contains("no resume snapshot"), "\(second.logText)")
        #expect(second.terminate() == 0)
        let after = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(after.status == 0 && after.output.contains("resume snapshot after block 1 matches"), "\(after.output)")
    }

    @Test func killedWhileSealingUnderLoadItResumesWithNothingAcknowledgedLost() async throws {
        let (world, keys) = try await Self.enrolledWorld(meters: 4)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await Self.crashUnderLoad(world, keys: keys, client: client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("resume snapshot after block"), "\(verified.output)")
    }

    /// Five rounds of: serve, post readings, kill -9 at a random moment while a batch is in
    /// flight; then a sixth start, which must hold every acknowledged reading.
    static func crashUnderLoad(_ world: World, keys: [SigningIdentity], client: HTTPClient) async throws {
        let gatewayID = try KeyFile.readPublicKey(from: world.gateway + "/gateway.key.pub").id
        // The readings signed so far, resent byte for byte when their answer was lost.
        var signed: [MeterID: [UInt64: SignedRecord]] = [:]
        var acknowledged: [MeterID: UInt64] = [:]
        for round in 0..<6 {
            // Every block carries a snapshot in some rounds; in others start-up replays blocks.
            let gateway = try await Self.serve(
                world,
                log: "gateway-\(round).log",
                ["--seal-interval", "50ms", "--seal-size", "16", "--snapshot-entries", round % 2 == 0 ? "1" : "50"]
            )
            #expect(gateway.process.isRunning, "round \(round): \(gateway.logText)")
            #expect(!gateway.logText.contains("no resume snapshot"), "round \(round): \(gateway.logText)")
            let base = try world.gatewayURL()
            // The last round only checks what the gateway holds.
            guard round < 5 else {
                let held = try await EndToEndTests.lastSequences(base, client: client)
                for key in keys {
                    #expect(held[key.id.hex] ?? 0 >= acknowledged[key.id] ?? 0, "meter \(key.id.hex)")
                }
                #expect(gateway.terminate() == 0, "\(gateway.logText)")
                break
            }
            var batches = 0
            let deadline = ContinuousClock.now + .milliseconds(Int.random(in: 400...1500))
            // Post until killed: the kill lands while a batch is in flight or a block is sealing.
            while true {
                var batch: [SignedRecord] = []
                for key in keys {
                    let next = (acknowledged[key.id] ?? 0) + 1
                    for sequence in next..<next + 6 {
                        if signed[key.id]?[sequence] == nil {
                            let reading = try Reading(
                                meter: key.id,
                                gateway: gatewayID,
                                sequence: sequence,
                                timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                                values: [MeasuredValue(.energyImportWh, Int64(sequence))]
                            )
                            signed[key.id, default: [:]][sequence] = try SignedRecord.sign(.reading(reading), with: key)
                        }
                        batch.append(signed[key.id]![sequence]!)
                    }
                }
                let body = try JSONEncoder().encode(IngestBatch(signed: batch))
                if ContinuousClock.now >= deadline {
                    // Kill as the next batch arrives.
                    // Its answer may never come: the error is the point.
                    async let answer = try? EndToEndTests.post(base + "/v1/readings", json: body, client: client)
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...20)))
                    gateway.kill9()
                    _ = await answer
                    break
                }
                let (status, data) = try await EndToEndTests.post(base + "/v1/readings", json: body, client: client)
                #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
                for result in try JSONDecoder().decode(IngestResponse.self, from: data).results
                where result.status == .accepted || result.status == .duplicate {
                    let meter = batch[result.index].signer
                    acknowledged[meter] = max(acknowledged[meter] ?? 0, result.sequence ?? 0)
                }
                batches += 1
            }
            #expect(batches > 0, "round \(round): \(gateway.logText)")
        }
        #expect(keys.allSatisfy { (acknowledged[$0.id] ?? 0) > 0 })
    }
}

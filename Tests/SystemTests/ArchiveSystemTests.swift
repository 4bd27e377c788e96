import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// The real `edge-gateway archive` and `backup` killed with kill -9 at many points while
/// `serve` ingests: nothing acknowledged is lost, `verify` passes end to end, a rerun of the
/// archive completes, and a killed backup is never taken for a good one.
@Suite("Archive and backup killed under load, with the real binary", .serialized)
struct ArchiveSystemTests {
    typealias World = EndToEndTests.World

    /// Signs and posts readings, remembering what was acknowledged.
    final class Load: @unchecked Sendable {
        let keys: [SigningIdentity]
        let gatewayID: GatewayID
        var acknowledged: [MeterID: UInt64] = [:]

        init(keys: [SigningIdentity], gatewayID: GatewayID) {
            self.keys = keys
            self.gatewayID = gatewayID
        }

        /// One batch: the next `perMeter` readings of every meter.
        func post(_ base: String, client: HTTPClient, perMeter: UInt64 = 10) async throws {
            var batch: [SignedRecord] = []
            for key in keys {
                let next = (acknowledged[key.id] ?? 0) + 1
                for sequence in next..<next + perMeter {
                    let reading = try Reading(
                        meter: key.id,
                        gateway: gatewayID,
                        sequence: sequence,
                        timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                        values: [MeasuredValue(.energyImportWh, Int64(sequence))]
                    )
                    batch.append(try SignedRecord.sign(.reading(reading), with: key))
                }
            }
            let body = try JSONEncoder().encode(IngestBatch(signed: batch))
            let (status, data) = try await EndToEndTests.post(base + "/v1/readings", json: body, client: client)
            #expect(status == 200, "\(String(decoding: data, as: UTF8.self))")
            for result in try JSONDecoder().decode(IngestResponse.self, from: data).results
            where result.isAcknowledged {
                let meter = batch[result.index].signer
                acknowledged[meter] = max(acknowledged[meter] ?? 0, result.sequence ?? 0)
            }
        }

        /// Posts batches until `deadline`.
        func run(_ base: String, client: HTTPClient, until deadline: ContinuousClock.Instant) async throws {
            repeat { try await post(base, client: client) } while ContinuousClock.now < deadline
        }
    }

    @Test func archiveAndBackupKilledAtManyPointsUnderLoadLoseNothing() async throws {
        let (world, keys) = try await ResumeSnapshotSystemTests.enrolledWorld(meters: 4)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await Self.killAtManyPoints(world, keys: keys, client: client)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    static func killAtManyPoints(_ world: World, keys: [SigningIdentity], client: HTTPClient) async throws {
        let gatewayID = try KeyFile.readPublicKey(from: world.gateway + "/gateway.key.pub").id
        let load = Load(keys: keys, gatewayID: gatewayID)
        let serveOptions = ["--seal-interval", "50ms", "--seal-size", "64", "--snapshot-entries", "100"]
        var gateway = try await ResumeSnapshotSystemTests.serve(world, log: "gateway-0.log", serveOptions)
        var base = try world.gatewayURL()
        // History to archive: a few thousand readings in many blocks.
        try await load.run(base, client: client, until: .now + .seconds(3))

        let out = world.path("archive")
        let archive = [
            "archive", "--data", world.gateway, "--out", out, "--before", "2100-01-01", "--uncheckpointed",
            "--segment-entries", "200",
        ]
        for round in 0..<8 {
            let archiving = try RunningProcess("edge-gateway", archive, log: world.path("archive-\(round).log"))
            try await load.run(base, client: client, until: .now + .milliseconds(Int.random(in: 10...600)))
            archiving.kill9()
            // Between kills the gateway may be killed too: it must resume from any of them.
            if round % 3 == 2 {
                gateway.kill9()
                gateway = try await ResumeSnapshotSystemTests.serve(
                    world,
                    log: "gateway-\(round + 1).log",
                    serveOptions
                )
                #expect(gateway.process.isRunning, "\(gateway.logText)")
                base = try world.gatewayURL()
            }
        }

        // A backup killed mid-way leaves no directory under its name; one run to its end is good.
        let backup = world.path("backup")
        for round in 0..<3 {
            let backingUp = try RunningProcess(
                "edge-gateway",
                ["backup", "--data", world.gateway, "--out", backup],
                log: world.path("backup-\(round).log")
            )
            try await load.run(base, client: client, until: .now + .milliseconds(Int.random(in: 5...150)))
            backingUp.kill9()
            if FileManager.default.fileExists(atPath: backup) {
                // It finished before the kill: then it is whole.
                let checked = try await runBinary("edge-gateway", ["verify", "--data", backup])
                #expect(checked.status == 0, "\(checked.output)")
                try FileManager.default.removeItem(atPath: backup)
            }
        }
        let backedUp = try await runBinary("edge-gateway", ["backup", "--data", world.gateway, "--out", backup])
        #expect(backedUp.status == 0, "\(backedUp.output)")
        #expect(!FileManager.default.fileExists(atPath: backup + ".partial"))
        #expect(try await runBinary("edge-gateway", ["verify", "--data", backup]).status == 0)

        // The archive run to its end, while the gateway ingests.
        let finishing = try RunningProcess("edge-gateway", archive, log: world.path("archive-final.log"))
        try await load.run(base, client: client, until: .now + .milliseconds(300))
        finishing.process.waitUntilExit()
        #expect(finishing.process.terminationStatus == 0, "\(finishing.logText)")
        #expect(finishing.logText.contains("blocks 0–"), "\(finishing.logText)")

        // Killed once more and restarted: every acknowledged reading is there.
        gateway.kill9()
        gateway = try await ResumeSnapshotSystemTests.serve(world, log: "gateway-last.log", serveOptions)
        base = try world.gatewayURL()
        let held = try await EndToEndTests.lastSequences(base, client: client)
        for key in keys {
            #expect(held[key.id.hex] ?? 0 >= load.acknowledged[key.id] ?? 0, "meter \(key.id.hex)")
        }
        try await load.post(base, client: client)
        #expect(gateway.terminate() == 0, "\(gateway.logText)")

        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway, "--archive", out])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("archived in"), "\(verified.output)")
        #expect(verified.output.contains("end to end"), "\(verified.output)")
        let offline = try await runBinary("edge-gateway", ["verify-archive", out])
        #expect(offline.status == 0, "\(offline.output)")
        let rerun = try await runBinary("edge-gateway", archive)
        #expect(rerun.status == 0, "\(rerun.output)")
    }
}

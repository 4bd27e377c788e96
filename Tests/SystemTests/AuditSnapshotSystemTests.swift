import AsyncHTTPClient
import Foundation
import GRDB
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// The super node's audit snapshots with the real binaries: killed (`kill -9`) while a
/// gateway pushes, it resumes each time from its snapshot and the blocks after it, and the
/// checkpoints go on, one per block, the same bytes at the gateway and the super node.
@Suite("Audit snapshot with the real binaries", .serialized)
struct AuditSnapshotSystemTests {
    typealias Grid = UplinkSystemTests.Grid
    typealias Uplink = UplinkSystemTests.Uplink

    @Test(
        "kill -9 of the super node while a gateway pushes: it resumes from its snapshots, checkpoints continuous and identical"
    )
    func killedWhileAGatewayPushes() async throws {
        let grid = try await Grid()
        let world = grid.world
        _ = try await grid.enroll("house", role: "consumer")
        let meterKey = try KeyFile.readPrivateKey(from: world.path("house.key"))
        let snapshotEvery = ["--snapshot-entries", "3"]
        let (first, superURL) = try await grid.startSuperNode(log: "sn-0.log", arguments: snapshotEvery)
        var superNode = first
        let superPort = String(superURL.split(separator: ":").last ?? "")
        let (gateway, base) = try await grid.startGateway(superNodeURL: superURL, sealInterval: "100ms")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var sequence: UInt64 = 0
        /// Plays the meter agent: one signed reading.
        func feed() async throws {
            sequence += 1
            let reading = try Reading(
                meter: meterKey.id,
                gateway: GatewayID(hex: grid.gatewayID),
                sequence: sequence,
                timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                values: [MeasuredValue(.energyImportWh, Int64(sequence))]
            )
            let batch = IngestBatch(records: [
                Data(try SignedRecord.sign(.reading(reading), with: meterKey).bytes).base64EncodedString()
            ])
            let (status, data) = try await EndToEndTests.post(
                base + "/v1/readings",
                json: try JSONEncoder().encode(batch),
                client: client
            )
            let accepted = try JSONDecoder().decode(IngestResponse.self, from: data).results.first?.status == .accepted
            guard status == 200, accepted else {
                throw EndToEndTests.Failure("reading \(sequence) refused: \(String(decoding: data, as: UTF8.self))")
            }
        }
        func uplink() async throws -> Uplink {
            try await UplinkSystemTests.json(base + "/v1/uplink", Uplink.self, client: client)
        }
        do {
            // How many readings, how many ms apart, go in before each kill: the kill lands at
            // different points of sealing and pushing.
            let beforeKill = [(3, 17), (0, 0), (7, 41)]
            for round in 1...3 {
                let checkpointed = try await uplink().lastCheckpointedHeight ?? 0
                try await UplinkSystemTests.waitFor("checkpoints to advance in round \(round)") {
                    try await feed()
                    return (try await uplink().lastCheckpointedHeight ?? 0) >= checkpointed + 3
                }
                // Killed at a random moment while readings flow and blocks are pushed.
                let (readings, pause) = beforeKill[round - 1]
                for _ in 0..<readings {
                    try await feed()
                    try await Task.sleep(for: .milliseconds(pause))
                }
                superNode.kill9()
                for _ in 0..<5 { try await feed() }
                (superNode, _) = try await grid.startSuperNode(
                    listen: "127.0.0.1:\(superPort)",
                    log: "sn-\(round).log",
                    arguments: snapshotEvery
                )
                let log = superNode.logText
                #expect(log.contains("audit snapshots checked"), "\(log.suffix(2000))")
                #expect(!log.contains("no audit snapshot"), "\(log.suffix(2000))")
            }
            // Readings stop; everything sealed gets checkpointed.
            var height: UInt64 = 0
            try await UplinkSystemTests.waitFor("every sealed block checkpointed") {
                let u = try await uplink()
                height = u.lastCheckpointedHeight ?? 0
                return u.state == "connected" && u.unacknowledgedBlocks == 0
                    && u.sealedHeight == u.lastCheckpointedHeight
            }
            let atSuperNode = try await DatabaseQueue(path: grid.superNode + "/authority.sqlite").read { db in
                try Row.fetchAll(db, sql: "SELECT height, checkpoint FROM gateway_block ORDER BY height").map {
                    (UInt64($0["height"] as Int64), $0["checkpoint"] as Data)
                }
            }
            let atGateway = try await DatabaseQueue(path: world.gateway + "/checkpoints.sqlite").read { db in
                try Row.fetchAll(db, sql: "SELECT height, bytes FROM checkpoint ORDER BY height").map {
                    (UInt64($0["height"] as Int64), $0["bytes"] as Data)
                }
            }
            #expect(atSuperNode.map(\.0) == Array(0...height))
            #expect(atGateway.map(\.1) == atSuperNode.map(\.1), "one checkpoint per block, the super node's own bytes")
            let snapshotHeight = try await DatabaseQueue(path: grid.superNode + "/authority.sqlite").read { db in
                try Int64.fetchOne(db, sql: "SELECT height FROM audit_snapshot")
            }
            #expect((snapshotHeight ?? 0) > 0, "snapshots are written as blocks are accepted")
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(gateway.terminate() == 0, "\(gateway.logText.suffix(3000))")
        #expect(superNode.terminate() == 0)
        // Restarted once more, the whole chain's audit is resumed, not replayed.
        (superNode, _) = try await grid.startSuperNode(log: "sn-last.log", arguments: snapshotEvery)
        #expect(superNode.terminate() == 0)
        #expect(superNode.logText.contains("audit snapshots checked"))
        #expect(try await runBinary("edge-gateway", ["verify", "--data", world.gateway]).status == 0)

        // `super-node verify` audits every gateway's chain again from its first block and
        // checks its snapshot against it: OK here, and FAILED once the snapshot is edited.
        let verified = try await runBinary("super-node", ["verify", "--data", grid.superNode])
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.contains("store OK: 1 gateways"), "\(verified.output)")
        #expect(verified.output.contains("gateway \(grid.gatewayID): blocks 0–"), "\(verified.output)")
        try await DatabaseQueue(path: grid.superNode + "/authority.sqlite").write { db in
            let otherState = try #require(try Data.fetchOne(db, sql: "SELECT bytes FROM audit_snapshot"))
            var edited = Array(otherState)
            edited[edited.count - 1] ^= 1
            try db.execute(sql: "UPDATE audit_snapshot SET bytes = ?", arguments: [Data(edited)])
        }
        let refused = try await runBinary("super-node", ["verify", "--data", grid.superNode])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output.contains("verification FAILED"), "\(refused.output)")
        #expect(refused.output.contains("gateway \(grid.gatewayID)"), "\(refused.output)")
    }
}

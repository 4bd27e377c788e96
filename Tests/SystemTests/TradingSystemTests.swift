import AsyncHTTPClient
import Foundation
import Glibc
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// Energy trading with the real binaries: `meter-agent offer|request` and
/// `meter-agent run --auto-offer` against `edge-gateway serve`.
@Suite("Trading with the real binaries", .serialized)
struct TradingSystemTests {
    typealias World = EndToEndTests.World

    /// Starts a gateway on a fresh directory with `meters` (name → role) enrolled.
    static func gateway(
        _ world: World,
        meters: [(String, String)],
        extra: [String] = []
    ) async throws -> (RunningProcess, String) {
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        for (name, role) in meters {
            _ = try await world.keygen(name)
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", world.gateway, "--meter-key", world.path("\(name).key.pub"), "--role", role]
            )
            #expect(enrolled.status == 0, "\(enrolled.output)")
        }
        let gateway = try RunningProcess(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "127.0.0.1:0", "--seal-interval", "300ms"] + extra,
            log: world.path("gateway.log")
        )
        try await waitUntil("gateway.url") { FileManager.default.fileExists(atPath: world.gateway + "/gateway.url") }
        return (gateway, try world.gatewayURL())
    }

    /// The issue's worked example from the command line: water 1000 Wh, wind 6000 Wh and
    /// solar 900 Wh with TNT 1, 2 and 3; 600 Wh goes to water, the next 600 Wh to wind.
    @Test func workedExampleFromTheCommandLine() async throws {
        let world = try World()
        let (gateway, base) = try await Self.gateway(
            world,
            meters: [("water", "producer"), ("wind", "producer"), ("solar", "producer"), ("home", "consumer")],
            extra: ["--offer-tolerance-wh", "100000"]
        )
        var sequence: UInt64 = 0
        func trade(_ command: String, _ meter: String, _ wh: Int) async throws -> (status: Int32, output: String) {
            sequence += 1
            return try await runBinary(
                "meter-agent",
                [
                    command, "--key", world.path("\(meter).key"), "--gateway", base,
                    "--energy-wh", "\(wh)", "--sequence", "\(sequence)", "--json",
                ]
            )
        }
        func decision(_ result: (status: Int32, output: String)) throws -> DispatchResponse {
            try JSONDecoder().decode(DispatchResponse.self, from: Data(result.output.utf8))
        }
        for (producer, served) in [("solar", 3), ("wind", 2), ("water", 1)] {
            #expect(try await trade("offer", producer, served).status == 0)
            for _ in 0..<served { #expect(try await trade("request", "home", 1).status == 0) }
        }
        for (producer, wh) in [("water", 1000), ("wind", 6000), ("solar", 900)] {
            let offered = try await trade("offer", producer, wh)
            #expect(offered.status == 0, "\(offered.output)")
            #expect(
                try JSONDecoder().decode(OfferResponse.self, from: Data(offered.output.utf8)).creditedWh == UInt64(wh)
            )
        }
        let ids = try ["water", "wind"].map { name in
            try KeyFile.readPublicKey(from: world.path("\(name).key.pub")).id.hex
        }
        let first = try await decision(try trade("request", "home", 600))
        #expect(first.shares == [DispatchShareView(producer: ids[0], energyWh: 600, tntBefore: 1, tntAfter: 2)])
        let second = try await decision(try trade("request", "home", 600))
        #expect(second.shares == [DispatchShareView(producer: ids[1], energyWh: 600, tntBefore: 2, tntAfter: 3)])

        // Unserved: exit status 3 and the reason, for people.
        sequence += 1
        let unserved = try await runBinary(
            "meter-agent",
            [
                "request", "--key", world.path("home.key"), "--gateway", base,
                "--energy-wh", "99999", "--sequence", "\(sequence)",
            ]
        )
        #expect(unserved.status == 3, "\(unserved.output)")
        #expect(
            unserved.output.contains("insufficient-energy") || unserved.output.contains("unserved"),
            "\(unserved.output)"
        )
        // A consumer may not offer: one line with the reason, status 1.
        let refused = try await trade("offer", "home", 5)
        #expect(refused.status == 1 && refused.output.contains("wrong-role"), "\(refused.output)")

        #expect(gateway.terminate() == 0)
        let verified = try await runBinary("edge-gateway", ["verify", "--data", world.gateway])
        #expect(verified.status == 0, "\(verified.output)")
    }

    /// An emulated PV meter's agent offers what the meter exported; a consumer's request
    /// is then served by it, and no offer is cut (nothing beyond metered export).
    @Test func autoOfferSellsMeteredProduction() async throws {
        let world = try World()
        let (gateway, base) = try await Self.gateway(world, meters: [("pv", "producer"), ("home", "consumer")])
        let bus = world.path("bus")
        let emulator = try RunningProcess(
            "meter-agent",
            [
                "emulate", "--pty-link", bus, "--profile", "sdm120", "--unit", "2", "--role", "pv",
                "--seed", "3", "--start", "2026-06-21T11:00:00Z",
            ],
            log: world.path("emulator.log")
        )
        try await waitUntil("the emulated bus") { FileManager.default.fileExists(atPath: bus) }
        let agent = try RunningProcess(
            "meter-agent",
            [
                "run", "--device", bus, "--unit", "2", "--profile", "sdm120", "--role", "producer",
                "--key", world.path("pv.key"), "--gateway", base, "--data", world.path("agent-data"),
                "--interval", "200ms", "--auto-offer", "--offer-interval", "1s",
            ],
            log: world.path("agent.log")
        )
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await waitUntil("an accepted offer", timeout: .seconds(60)) {
                agent.logText.contains("offer") && gateway.logText.contains("offer recorded")
            }
            var served: (status: Int32, output: String) = (-1, "")
            try await waitUntil("a served request", timeout: .seconds(30)) {
                served = try await runBinary(
                    "meter-agent",
                    ["request", "--key", world.path("home.key"), "--gateway", base, "--energy-wh", "1", "--json"]
                )
                return served.status == 0
            }
            let pvID = try KeyFile.readPublicKey(from: world.path("pv.key.pub")).id.hex
            #expect(
                try JSONDecoder().decode(DispatchResponse.self, from: Data(served.output.utf8)).shares.first?.producer
                    == pvID
            )
            let (_, metrics) = try await EndToEndTests.get(base + "/metrics", client: client)
            let text = String(decoding: metrics, as: UTF8.self)
            #expect(
                text.contains(#"gateway_anomalies_total{kind="offer-exceeds-production"} 0"#),
                "auto-offers stay within metered export"
            )
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        #expect(agent.terminate() == 0)
        #expect(emulator.terminate() == 0)
        #expect(gateway.terminate() == 0)
        #expect(try await runBinary("edge-gateway", ["verify", "--data", world.gateway]).status == 0)
    }
}

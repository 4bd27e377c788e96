import Foundation
import LedgerLite
import LedgerStore
import ModbusBridge
import OperatorKit
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

@Suite("Fleets at scale: ranges of units, bulk keys, late polls")
struct FleetScaleTests {
    @Test("unit lists: ids and ranges, each id once, 1 to 247")
    func unitLists() throws {
        #expect(try UnitList(parsing: "7", context: "f").units == [7])
        #expect(try UnitList(parsing: "1-3, 10,20-21", context: "f").units == [1, 2, 3, 10, 20, 21])
        #expect(try UnitList(parsing: "1-247", context: "f").units.count == 247)
        for (text, problem) in [
            ("0-5", "unit ids are 1 to 247"), ("240-250", "unit ids are 1 to 247"),
            ("5-1", "from the lower id to the higher"), ("1-3,2", "unit 2 is listed twice"),
            ("a-b", "is not a unit id or a range"), ("", "is not a unit id or a range"),
        ] {
            let error = #expect(throws: ConfigFileError.self) { try UnitList(parsing: text, context: "f.units") }
            #expect(error?.location == "f.units")
            #expect(error?.problem.contains(problem) == true, "\(text): \(error?.problem ?? "")")
        }
    }

    @Test("a fleet file describes 200 meters in one entry: profiles and roles dealt round-robin, seeds per unit")
    func fleetFileRanges() throws {
        let directory = try TempDir(prefix: "gl-fleet")
        defer { directory.cleanup() }
        let path = directory.file("fleet.yaml")
        func resolve(_ meters: String) throws -> FleetConfig {
            try "seed: 5\nbuses:\n  - tcp: 127.0.0.1:0\n    meters:\n\(meters)".write(
                toFile: path,
                atomically: true,
                encoding: .utf8
            )
            return try FleetFile.load(path: path)
        }
        let fleet = try resolve(
            """
                  - { units: 1-200, profiles: [sdm630, sdm120, em24], roles: [consumer, pv] }
                  - { unit: 201, profile: em24, role: wind, seed: 999 }
            """
        )
        let meters = fleet.buses[0].meters
        #expect(meters.count == 201)
        #expect(meters.prefix(4).map(\.profile) == ["sdm630", "sdm120", "em24", "sdm630"])
        #expect(meters.prefix(3).map(\.role) == [.consumer, .pv, .consumer])
        #expect(meters.map(\.unit) == (1...201).map { UInt8($0) })
        #expect(Set(meters.map(\.seed)).count == 201)
        #expect(meters[199].seed == 5 + 200)  // base seed + unit on bus 0, as for a meter listed alone
        #expect(meters[200].seed == 999)

        for (entry, location, problem) in [
            ("      - { units: 1-3, profile: sdm630, seed: 4 }", "meters[0].seed", "a seed names one meter"),
            ("      - { unit: 1, units: 2-3, profile: sdm630 }", "meters[0]", "not both"),
            ("      - { profile: sdm630 }", "meters[0].unit", "missing"),
            ("      - { units: 1-3, profile: sdm630, profiles: [em24] }", "meters[0]", "give profile or profiles"),
            ("      - { units: 1-3, profiles: [] }", "meters[0].profiles", "the list is empty"),
            ("      - { units: 1-3, profile: em24, roles: [pv, sun] }", "meters[0].roles", "'sun' is not one of"),
            ("      - { units: 1-3, profile: em24 }\n      - { unit: 2, profile: em24 }", "meters", "unit id 2"),
        ] {
            let error = #expect(throws: ConfigFileError.self) { try resolve(entry) }
            #expect(error?.location == "\(path): buses[0].\(location)", "\(entry): \(error?.description ?? "")")
            #expect(error?.problem.contains(problem) == true, "\(entry): \(error?.description ?? "")")
        }
    }

    @Test("an agent file polls 200 meters from one entry, each with its own key file named by the pattern")
    func agentFileRanges() throws {
        let directory = try TempDir(prefix: "gl-agent-fleet")
        defer { directory.cleanup() }
        let path = directory.file("agent.yaml")
        func load(_ meters: String) throws -> AgentConfig {
            try """
            gateway: http://127.0.0.1:8080
            data: agent-data
            buses:
              - tcp: 127.0.0.1:5020
                meters:
            \(meters)
              - tcp: 127.0.0.1:5021
                meters:
                  - { units: 1-2, profile: em24, key: "keys/{role}-bus{bus}-{unit}.key" }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return try AgentFile.load(path: path)
        }
        let config = try load(
            "      - { units: 1-200, profiles: [sdm630, em24], roles: [consumer, producer], key: \"keys/{role}-bus{bus}-{unit}.key\" }"
        )
        let meters = config.buses[0].meters
        #expect(meters.count == 200)
        #expect(meters.prefix(3).map(\.profile) == ["sdm630", "em24", "sdm630"])
        #expect(meters.prefix(3).map(\.role) == [.consumer, .producer, .consumer])
        #expect(meters[1].key == directory.file("keys/producer-bus0-2.key"))
        #expect(config.buses[1].meters.map(\.key) == [1, 2].map { directory.file("keys/consumer-bus1-\($0).key") })

        let shared = #expect(throws: ConfigFileError.self) {
            try load("      - { units: 1-3, profile: sdm630, key: keys/all.key }")
        }
        #expect(shared?.location == "\(path): buses[0].meters[0].key")
        #expect(shared?.problem.contains("{unit}") == true)
        let twice = #expect(throws: ConfigFileError.self) {
            try load(
                "      - { units: 1-3, profile: sdm630, key: \"k{unit}\" }\n      - { unit: 3, profile: sdm630, key: k }"
            )
        }
        #expect(twice?.description == "\(path): buses[0].meters: two meters share unit id 3")
    }

    @Test("keygen --config creates every key pair an agent file names, keeps existing ones, and never half a pair")
    func keygenForAFleet() throws {
        let directory = try TempDir(prefix: "gl-keygen-fleet")
        defer { directory.cleanup() }
        let path = directory.file("agent.yaml")
        try """
        gateway: http://127.0.0.1:8080
        data: agent-data
        buses:
          - tcp: 127.0.0.1:5020
            meters:
              - { units: 1-20, profile: sdm630, roles: [consumer, producer], key: "keys/{role}-{unit}.key" }
        """.write(toFile: path, atomically: true, encoding: .utf8)
        var command = try KeygenCommand.parseAsRoot(["--config", path]) as! KeygenCommand
        try command.run()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.file("keys"))
        let mode = try FileManager.default.attributesOfItem(atPath: directory.file("keys"))[.posixPermissions] as? Int
        #expect(mode == 0o700)
        #expect(files.count == 40)
        #expect(files.filter { $0.hasPrefix("producer-") && $0.hasSuffix(".key.pub") }.count == 10)
        let key = try KeyFile.readPrivateKey(from: directory.file("keys/consumer-1.key"))
        let pub = try KeyFile.readPublicKey(from: directory.file("keys/consumer-1.key.pub"))
        #expect(key.id == pub.id)

        // A second run keeps every pair.
        command = try KeygenCommand.parseAsRoot(["--config", path]) as! KeygenCommand
        try command.run()
        #expect(try KeyFile.readPrivateKey(from: directory.file("keys/consumer-1.key")).id == key.id)

        // Half a pair is an error, not a silent new private key beside an old public one.
        try FileManager.default.removeItem(atPath: directory.file("keys/producer-2.key"))
        #expect(throws: OperatorError.self) { try command.run() }
        #expect(!FileManager.default.fileExists(atPath: directory.file("keys/producer-2.key")))

        #expect(throws: (any Error).self) { try KeygenCommand.parseAsRoot([]) }
        #expect(throws: (any Error).self) { try KeygenCommand.parseAsRoot(["--out", "a", "--config", path]) }
    }

    @Test("a poll is late when it begins more than a tenth of the interval after the meter's interval")
    func latePolls() {
        let start = ContinuousClock.now
        var schedule = PollSchedule(interval: .seconds(10), meters: 2)
        #expect(schedule.begin(meter: 0, at: start) == nil)
        #expect(schedule.begin(meter: 1, at: start + .seconds(3)) == nil)
        #expect(schedule.begin(meter: 0, at: start + .seconds(10)) == nil)
        #expect(schedule.begin(meter: 1, at: start + .milliseconds(13_900)) == nil)  // within the grace
        #expect(schedule.begin(meter: 0, at: start + .seconds(22)) == .seconds(2))
        #expect(schedule.begin(meter: 1, at: start + .milliseconds(23_950)) == nil)
        #expect(schedule.begin(meter: 1, at: start + .seconds(40)) == .milliseconds(6_050))
        #expect(schedule.polls == 7)
        #expect(schedule.latePolls == 2)
        #expect(schedule.worstDelay == .milliseconds(6_050))
    }

    @Test("a bus whose round takes longer than the interval logs its late polls, and their count at shutdown")
    func latePollsAreLogged() async throws {
        // Every answer 40 ms late: three SDM120s take longer than the 150 ms interval to poll.
        let bus = try RunningBus(
            meters: (1...3).map { meter("sdm120", unit: $0) },
            faults: FaultInjection(rate: 1, faults: [.delay(.milliseconds(40))])
        )
        let sdm120 = try testLibrary.profile(named: "sdm120")
        let client = try bus.client(attempts: 1)
        let meters = (1...3).map { unit in
            PolledMeter(
                reader: MeterReader(client: client, profile: sdm120, unit: UInt8(unit)),
                factory: ReadingFactory(profile: sdm120),
                identity: SigningIdentity()
            )
        }
        let directory = try TempDir(prefix: "gl-late")
        defer { directory.cleanup() }
        let log = LogCapture()
        let poller = BusPoller(
            name: "slow",
            meters: meters,
            gateway: testGatewayID,
            interval: .milliseconds(150),
            outbox: try Outbox(directory: directory.file("outbox"), capacity: 1000),
            logger: log.logger
        )
        let running = Task { try await poller.run() }
        try await waitUntil("late polls logged") {
            log.all.contains { $0.contains("meter polled later than its interval") }
        }
        running.cancel()
        _ = try? await running.value
        let lines = log.all
        #expect(
            lines.contains { $0.contains("polling the bus took longer than the interval") && $0.contains("meters=3") }
        )
        let summary = try #require(lines.first { $0.contains("bus polling stopped") })
        let late = try #require(summary.firstMatch(of: #/polls\.late=(\d+)/#).flatMap { Int($0.1) })
        #expect(late >= 1, "\(summary)")
        #expect(summary.contains("bus=slow"))
    }
}

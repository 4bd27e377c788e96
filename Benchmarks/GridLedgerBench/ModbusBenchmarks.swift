import Foundation
import Logging
import ModbusBridge

/// Modbus figures, each beside a reference from the same run:
/// - planned reads of the SDM630 set vs one request per value (what mbmd does);
/// - with wire timing at 9600 8N1, the time of a full read vs the theoretical wire time;
/// - snapshots per second over a pseudo-terminal vs mbpoll reading the same requests.
enum ModbusBenchmarks {
    static func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let library = try ProfileLibrary.locate()
        let profile = try library.profile(named: "sdm630")
        let values = Dictionary(
            uniqueKeysWithValues: profile.measurands.enumerated().map { ($1.name, Double($0) + 0.5) }
        )

        // 1. Planned snapshot vs one request per measurand, no wire timing.
        let fast = try servedLine(profile: profile, values: values, wireTiming: false, logger: logger)
        defer { fast.server.stop() }
        let client = try ModbusClient(
            endpoint: .rtu(device: fast.terminal.path, settings: SerialSettings()),
            logger: logger
        )
        let planned = MeterReader(client: client, profile: profile, unit: 1)
        let perValue = ReadPlan(
            requests: profile.measurands.map {
                ReadRequest(table: $0.table, address: $0.address, count: $0.registerCount, measurands: [$0])
            }
        )
        let plannedRate = try await Bench.rate(minimum: .seconds(2)) { _ = try await planned.read() }
        let perValueRate = try await Bench.rate(minimum: .seconds(2)) {
            for request in perValue.requests {
                _ = try await client.readRegisters(
                    request.table,
                    address: request.address,
                    count: request.count,
                    unit: 1
                )
            }
        }
        print(
            "SDM630 standard set: \(profile.measurands.count) measurands, \(planned.plan.requests.count) planned requests (one per value: \(perValue.requests.count))"
        )
        Bench.report(
            "full SDM630 snapshots/s over a PTY, planned",
            value: plannedRate,
            unit: "snapshots/s",
            reference: ("one request per value", perValueRate)
        )

        // 2. A foreign client on the same line: mbpoll, one process per planned request.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/mbpoll") {
            let mbpollRate = try Bench.rate(minimum: .seconds(2)) {
                for request in planned.plan.requests {
                    try mbpoll(request, device: fast.terminal.path)
                }
            }
            Bench.report(
                "full SDM630 snapshots/s, meter-agent reader",
                value: plannedRate,
                unit: "snapshots/s",
                reference: ("mbpoll (a process per request)", mbpollRate)
            )
        } else {
            print("mbpoll not installed: run scripts/setup for the foreign-client comparison")
        }

        // 3. Wire timing at 9600 8N1: measured vs theoretical.
        let settings = SerialSettings(baud: 9600)
        let timed = try servedLine(profile: profile, values: values, wireTiming: true, logger: logger)
        defer { timed.server.stop() }
        let timedClient = try ModbusClient(
            endpoint: .rtu(device: timed.terminal.path, settings: settings),
            logger: logger
        )
        let timedReader = MeterReader(client: timedClient, profile: profile, unit: 1)
        let theoretical = timedReader.plan.requests.reduce(0.0) { total, request in
            total + settings.exchangeTime(requestBytes: 8, responseBytes: 5 + 2 * request.count)
        }
        _ = try await timedReader.read()  // warm-up
        var samples: [Double] = []
        for _ in 0..<10 {
            samples.append(try await Bench.timeAsync { _ = try await timedReader.read() })
        }
        samples.sort()
        let median = samples[samples.count / 2]
        Bench.report(
            "full SDM630 read at 9600 8N1 with wire timing (median of 10)",
            value: median * 1000,
            unit: "ms",
            reference: ("theoretical wire time", theoretical * 1000),
            target: "ratio ≤ 1.10"
        )
    }

    private static func servedLine(
        profile: MeterProfile,
        values: [String: Double],
        wireTiming: Bool,
        logger: Logger
    ) throws -> (terminal: PseudoTerminal, server: ModbusRTUServer) {
        let bank = try RegisterBank(layout: .covering(profile))
        try bank.apply(profile.registerWrites(for: values))
        let terminal = try PseudoTerminal()
        let server = try ModbusRTUServer(
            pseudoTerminal: terminal,
            settings: SerialSettings(baud: 9600),
            units: [1: bank],
            options: ServerOptions(wireTiming: wireTiming, logger: logger)
        )
        try server.start()
        return (terminal, server)
    }

    private static func mbpoll(_ request: ReadRequest, device: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mbpoll")
        process.arguments = [
            "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none",
            "-t", request.table == .inputRegisters ? "3" : "4", "-0",
            "-r", String(request.address), "-c", String(request.count), "-1", device,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MbpollFailed(status: process.terminationStatus) }
    }

    struct MbpollFailed: Error {
        let status: Int32
    }
}

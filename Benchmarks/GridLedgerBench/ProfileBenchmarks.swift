import Foundation
import Logging
import MeterEmulator
import ModbusBridge

/// Issue 15's figures, with the emulator's wire timing at 9600 baud (each profile's own
/// parity and stop bits):
/// - every shipped profile's full snapshot through the planner, beside the theoretical wire
///   time of its planned requests, and the requests it takes;
/// - one bus shared by a slow unit and a fast one, each with its own timing: snapshots per
///   second beside each unit's snapshot time alone, back to back (what the sum of their bus
///   times allows), and the retries and failures it took.
enum ProfileBenchmarks {
    static func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let library = try ProfileLibrary.locate()

        print("profile             requests   snapshot ms   wire ms   ratio   (median of 5, 9600 baud)")
        var worst: (name: String, ratio: Double) = ("", 0)
        for name in library.profiles.keys.sorted() {
            let profile = try library.profile(named: name)
            let line = try EmulatedLine(meters: [(name, 1, nil)], library: library, logger: logger)
            defer { line.stop() }
            let client = try line.client(responseTimeout: .milliseconds(500), logger: logger)
            let reader = MeterReader(client: client, profile: profile, unit: 1)
            let wire = line.wireTime(of: reader.plan)
            _ = try await reader.read()  // warm-up: the line opens
            let median = try await median(of: 5) { _ = try await reader.read() }
            let ratio = median / wire
            if ratio > worst.ratio { worst = (name, ratio) }
            print(
                "\(name.padding(toLength: 20, withPad: " ", startingAt: 0))"
                    + "\(String(reader.plan.requests.count).leftPadded(8))"
                    + "\(String(format: "%.1f", median * 1000).leftPadded(14))"
                    + "\(String(format: "%.1f", wire * 1000).leftPadded(10))"
                    + "\(String(format: "%.2f", ratio).leftPadded(8))"
            )
        }
        print(
            "worst snapshot / wire time ratio: \(String(format: "%.2f", worst.ratio)) (\(worst.name))   [target ≤ 1.10]"
        )

        try await sharedBus(library: library, logger: logger)
    }

    /// The median wall time of `count` calls of `body`, in seconds.
    private static func median(of count: Int, _ body: () async throws -> Void) async throws -> Double {
        var samples: [Double] = []
        for _ in 0..<count { samples.append(try await Bench.timeAsync(body)) }
        samples.sort()
        return samples[samples.count / 2]
    }

    /// An SDM630 that answers 300 ms late and an SDM120 that answers at once, on one line:
    /// the fast unit keeps a 250 ms response timeout, which the slow one would miss on every
    /// request, and the slow one is given 1 s. The emulator sends an answer whole once its
    /// wire time has passed, so its first byte comes later than a real meter's: 250 ms leaves
    /// the SDM120's longest answer (about 90 ms) room on a loaded machine.
    private static func sharedBus(library: ProfileLibrary, logger: Logger) async throws {
        let delay = Duration.milliseconds(300)
        let line = try EmulatedLine(
            meters: [("sdm630", 1, delay), ("sdm120", 2, nil)],
            library: library,
            logger: logger
        )
        defer { line.stop() }
        let client = try line.client(responseTimeout: .milliseconds(250), logger: logger)
        await client.setTiming(UnitTiming(responseTimeout: .seconds(1)), for: 1)
        let slow = MeterReader(client: client, profile: try library.profile(named: "sdm630"), unit: 1)
        let fast = MeterReader(client: client, profile: try library.profile(named: "sdm120"), unit: 2)
        _ = try await slow.read()
        _ = try await fast.read()
        let before = await client.statistics
        // Each unit's own snapshot time on this line (its wire time, and the slow unit's
        // delay, which the emulator spends while the request is on the line).
        let slowAlone = try await median(of: 5) { _ = try await slow.read() }
        let fastAlone = try await median(of: 5) { _ = try await fast.read() }
        let rate = try await Bench.rate(operations: 2, minimum: .seconds(5)) {
            _ = try await slow.read()
            _ = try await fast.read()
        }
        let after = await client.statistics
        print(
            "  alone: SDM630 \(String(format: "%.0f", slowAlone * 1000)) ms (\(slow.plan.requests.count) requests, each answered 300 ms late; wire \(String(format: "%.0f", line.wireTime(of: slow.plan) * 1000)) ms),"
                + " SDM120 \(String(format: "%.0f", fastAlone * 1000)) ms (wire \(String(format: "%.0f", line.wireTime(of: fast.plan) * 1000)) ms)"
        )
        Bench.report(
            "shared bus, slow SDM630 (+300 ms) and fast SDM120: snapshots/s",
            value: rate,
            unit: "snapshots/s",
            reference: ("each alone, back to back", 2 / (slowAlone + fastAlone)),
            target: "ratio ≈ 1, no timeouts"
        )
        print(
            "  retries \(after.retries - before.retries), failed requests \(after.failures - before.failures) over \(after.requests - before.requests) requests"
        )
    }
}

/// An emulated RS-485 line on a pseudo-terminal with wire timing at 9600 baud, served until
/// `stop`.
private struct EmulatedLine {
    let bus: EmulatedBus
    let link: String
    let settings: SerialSettings

    init(meters: [(profile: String, unit: UInt8, delay: Duration?)], library: ProfileLibrary, logger: Logger) throws {
        link = FileManager.default.temporaryDirectory.appendingPathComponent("gl-bench-\(UUID().uuidString)").path
        let fleet = FleetConfig(
            start: Date(),
            speed: 0,
            buses: [
                FleetConfig.Bus(
                    transport: .ptyLink(link),
                    baud: 9600,
                    wireTiming: true,
                    faults: .none,
                    meters: meters.map {
                        FleetConfig.Meter(
                            profile: $0.profile,
                            unit: $0.unit,
                            role: .consumer,
                            seed: UInt64($0.unit),
                            anomalies: [],
                            responseDelay: $0.delay
                        )
                    }
                )
            ]
        )
        bus = try Emulator(fleet: fleet, library: library, logger: logger).makeBuses()[0]
        let serial = try library.profile(named: meters[0].profile).serial
        settings = SerialSettings(
            baud: 9600,
            parity: serial.parity,
            dataBits: serial.dataBits,
            stopBits: serial.stopBits
        )
        try bus.server.start()
    }

    func client(responseTimeout: Duration, logger: Logger) throws -> ModbusClient {
        try ModbusClient(
            endpoint: .rtu(device: link, settings: settings),
            options: ClientOptions(responseTimeout: responseTimeout),
            logger: logger
        )
    }

    /// The time the plan's frames take on this line: each request (8 bytes) and its
    /// answer (5 bytes and the registers), with the frame gaps.
    func wireTime(of plan: ReadPlan) -> Double {
        plan.requests.reduce(0.0) { total, request in
            total + settings.exchangeTime(requestBytes: 8, responseBytes: 5 + 2 * request.count)
        }
    }

    func stop() {
        bus.server.stop()
        bus.terminal?.removeLinks()
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

import AgentCore
import ArgumentParser
import Foundation
import MeterEmulator
import ModbusBridge
import OperatorKit

/// `meter-agent emulate`: serves emulated meters that behave like their firmware.
struct EmulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Run emulated meters on a pseudo-terminal, Modbus TCP or a serial device.",
        discussion: """
            Each meter serves its profile's register map, encoded exactly as the profile says, \
            with values from a deterministic model (same --seed and clock, same values): a \
            household load curve (consumer) or a producer (pv, wind, battery), voltages around \
            230 V within EN 50160, frequency around 50 Hz, and energy counters that are the \
            integral of power. Several meters share one bus: repeat --profile/--unit/--role, \
            or describe whole fleets in a YAML file with --config (see docs/EMULATOR.md).

            Like the firmware, a meter refuses writes: every register is a measurement or a \
            counter, so a write gets exception 02 (ILLEGAL DATA ADDRESS) and a function the \
            model does not implement exception 01 (ILLEGAL FUNCTION); nothing changes. On \
            --tcp, a client silent for --idle-timeout, or stalled halfway through a request, is \
            disconnected so it cannot hold a connection others need.

            Stops cleanly on SIGTERM or Ctrl-C and removes its --pty-link.

            Examples:
              meter-agent emulate --profile sdm630 --unit 1 --pty-link /tmp/meter
              meter-agent emulate --profile sdm630 --unit 1 --profile sdm120 --unit 2 \\
                --role consumer --role pv --pty-link /tmp/bus
              meter-agent emulate --profile em24 --unit 1 --tcp 127.0.0.1:5020 --speed 60
              meter-agent emulate --profile sunspec-203 --unit 1 --tcp 127.0.0.1:5020
              meter-agent emulate --profile sdm630 --unit 1 --tcp 127.0.0.1:5020 \\
                --idle-timeout 10s
              meter-agent emulate --config fleet.yaml
            """
    )

    @Option(
        name: .long,
        help:
            "Meter profile, or sunspec-ID for a SunSpec device (e.g. sunspec-203); repeat for several meters on the bus."
    )
    var profile: [String] = []

    @Option(
        name: .customLong("sunspec-base"),
        help: "Register of the SunS marker of the SunSpec devices (--profile sunspec-ID): 0, 40000 or 50000."
    )
    var sunspecBase: UInt16 = 40000

    @Option(name: .long, help: "Unit id of each meter (1-247); repeat in step with --profile.")
    var unit: [Int] = []

    @Option(
        name: .long,
        help: "Role of each meter: consumer, pv, wind or battery (default consumer); repeat or give once for all."
    )
    var role: [String] = []

    @Option(
        name: .customLong("pty-link"),
        help: "Open a pseudo-terminal and make this path a symlink to it (as socat's link= does)."
    )
    var ptyLink: String?

    @Option(name: .long, help: "Serve Modbus TCP on HOST:PORT instead (port 0 picks a free port).")
    var tcp: String?

    @Option(
        name: .customLong("idle-timeout"),
        help: ArgumentHelp(
            "With --tcp: disconnect a client that sends no request, or leaves one unfinished, for this long (default 60s; 0s: never).",
            valueName: "duration"
        )
    )
    var idleTimeout: DurationArgument?

    @Option(
        name: .long,
        help: "Serve Modbus RTU on this real serial device (the emulator acts as the meter on an RS-485 bus)."
    )
    var device: String?

    @Option(name: .long, help: "Baud rate of the line (default: the first meter's profile).")
    var baud: Int?

    @Option(name: .long, help: "Parity N, E or O (default: the first meter's profile).")
    var parity: String?

    @Flag(
        name: .customLong("wire-timing"),
        help: "Pace answers as a real line at the baud rate would (10 or 11 bits a character, 3.5-character gap)."
    )
    var wireTiming = false

    @Option(name: .long, help: "Seed of the meter model (meters on a bus get seed, seed+1, …).")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Simulated time runs this many times faster than the wall clock (0 freezes it).")
    var speed: Double = 1

    @Option(name: .long, help: "Simulated start time, ISO 8601 (e.g. 2026-06-21T12:00:00Z); default now.")
    var start: String?

    @Option(
        name: .long,
        help:
            "Make meters misbehave: tamper, rollback, sag or stuck, optionally @OFFSET of simulated time (e.g. rollback@10m). Repeatable."
    )
    var anomaly: [InjectedAnomaly] = []

    @Option(name: .customLong("fault-rate"), help: "Probability (0-1) that a request gets an injected fault.")
    var faultRate: Double = 0

    @Option(
        name: .long,
        help:
            "Faults to inject: no-reply, corrupt, delay:DURATION, exception:CODE (comma-separated; default no-reply,corrupt)."
    )
    var faults: String?

    @Option(name: .long, help: "A YAML fleet file (buses and meters); replaces the per-meter flags.")
    var config: String?

    @OptionGroup var profileOptions: ProfileOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if config != nil {
            guard profile.isEmpty, unit.isEmpty, ptyLink == nil, tcp == nil, device == nil, idleTimeout == nil else {
                throw ValidationError(
                    "--config describes the whole fleet; leave out --profile, --unit, --pty-link, --tcp, --device "
                        + "and --idle-timeout (a bus's idle-timeout goes in the file)"
                )
            }
            return
        }
        guard !profile.isEmpty else {
            throw ValidationError("name at least one meter: --profile NAME --unit N (or --config FILE)")
        }
        guard unit.count == profile.count else {
            throw ValidationError("give one --unit per --profile (\(profile.count) profile(s), \(unit.count) unit(s))")
        }
        for id in unit where !(1...247).contains(id) { throw ValidationError("--unit must be 1 to 247, not \(id)") }
        guard SunSpecEmulation.bases.contains(sunspecBase) else {
            throw ValidationError("--sunspec-base must be 0, 40000 or 50000, not \(sunspecBase)")
        }
        for name in profile {
            do {
                try SunSpecEmulation.check(profileName: name, base: sunspecBase, context: "--profile")
            } catch let error as ConfigFileError {
                throw ValidationError(error.description)
            }
        }
        guard Set(unit).count == unit.count else {
            throw ValidationError("two meters on one bus cannot share a --unit")
        }
        guard role.isEmpty || role.count == 1 || role.count == profile.count else {
            throw ValidationError("give --role once for all meters or once per --profile")
        }
        for name in role where EmulatedRole(rawValue: name) == nil {
            throw ValidationError(
                "--role '\(name)' is not one of \(EmulatedRole.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        guard [ptyLink, tcp, device].compactMap({ $0 }).count == 1 else {
            throw ValidationError(
                "choose where to serve: exactly one of --pty-link PATH, --tcp HOST:PORT or --device PATH"
            )
        }
        if let tcp { _ = try HostPort(parsing: tcp, flag: "--tcp") }
        if idleTimeout != nil, tcp == nil {
            throw ValidationError("--idle-timeout applies to --tcp only: a serial line has no connections to drop")
        }
        if let parity, Parity(flag: parity) == nil {
            throw ValidationError("--parity '\(parity)' is not a parity; use N, E or O")
        }
        if let baud, !SerialSettings.supportedBaudRates.contains(baud) {
            throw ValidationError(
                "--baud \(baud) is not supported; use one of \(SerialSettings.supportedBaudRates.map(String.init).joined(separator: ", "))"
            )
        }
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed must be 0 or more") }
        guard (0...1).contains(faultRate) else {
            throw ValidationError("--fault-rate must be 0 to 1, not \(faultRate)")
        }
        _ = try FleetFile.parseStart(start, context: "--start")
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "meter-agent.emulate")
        let fleet = try fleetConfig()
        let emulator = Emulator(fleet: fleet, library: try profileOptions.library(), logger: logger)
        let buses = try emulator.makeBuses()
        try await emulator.run(buses: buses)
    }

    /// The fleet described by the flags, or by --config.
    func fleetConfig() throws -> FleetConfig {
        if let config { return try FleetFile.load(path: config) }
        let transport: FleetConfig.Transport
        if let ptyLink {
            transport = .ptyLink(ptyLink)
        } else if let tcp {
            let address = try HostPort(parsing: tcp, flag: "--tcp")
            transport = .tcp(host: address.host, port: address.port)
        } else {
            transport = .device(device ?? "")
        }
        let meters = profile.indices.map { index in
            let roleName = role.isEmpty ? "consumer" : role[role.count == 1 ? 0 : index]
            return FleetConfig.Meter(
                profile: profile[index],
                unit: UInt8(unit[index]),
                role: EmulatedRole(rawValue: roleName) ?? .consumer,
                seed: seed &+ UInt64(index),
                ratedPower: nil,
                anomalies: anomaly,
                sunspecBase: sunspecBase
            )
        }
        let kinds = faults.map { $0.split(separator: ",").map(String.init) } ?? []
        let injection = try FaultOptions.injection(rate: faultRate, kinds: kinds, seed: seed, context: "--faults")
        let bus = FleetConfig.Bus(
            transport: transport,
            baud: baud,
            parity: parity.flatMap(Parity.init(flag:)),
            wireTiming: wireTiming,
            faults: injection,
            idleTimeout: idleTimeout.map { IdleTimeoutOption.timeout($0.duration) } ?? ServerOptions.defaultIdleTimeout,
            meters: meters
        )
        return FleetConfig(
            start: try FleetFile.parseStart(start, context: "--start") ?? Date(),
            speed: speed,
            buses: [bus]
        )
    }
}

import ArgumentParser
import Foundation
import MeterEmulator
import ModbusBridge
import OperatorKit
import ServiceLifecycle

/// `meter-agent proxy`: one bus, or a single-client TCP device, as a Modbus TCP server for many.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract:
            "Share one RS-485 bus (or a TCP device that takes one client) as a Modbus TCP server for many clients.",
        discussion: """
            A bus has one master, and many Modbus TCP devices accept one client. The proxy is \
            that master: clients (this agent, mbpoll, a home-automation system) connect to \
            --listen, and their requests are passed to the device one at a time, each with the \
            unit's own timing (--timeout, --attempts, --inter-frame-delay, --unit-timeout), and the \
            answers passed back.

            Safe by default: it listens on loopback only (another address needs --allow-remote) \
            and passes reads only (functions 01-04); writes (05, 06, 16) need --allow-writes, else \
            they are answered with exception 01 ILLEGAL FUNCTION. A unit that does not answer in \
            time gives exception 0B (gateway target failed to respond), a device that cannot be \
            reached exception 0A (gateway path unavailable); the meter's own exceptions pass \
            through. Stops on SIGTERM or Ctrl-C.

            Examples:
              meter-agent proxy --device /dev/ttyUSB0 --baud 9600 --listen 127.0.0.1:1502
              meter-agent proxy --tcp 192.0.2.10:502 --listen 127.0.0.1:1502 --unit-timeout 2=1.5s
              meter-agent read --tcp 127.0.0.1:1502 --unit 1 --profile sdm630 --once
            """
    )

    @OptionGroup(title: "The device behind the proxy") var bus: BusOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "Where clients connect, HOST:PORT (port 0 picks a free port).")
    var listen = ListenAddress(argument: "127.0.0.1:1502")!

    @Flag(help: "Listen on an address other clients than this machine's can reach.")
    var allowRemote = false

    @Flag(help: "Pass writes (functions 05, 06, 16) on to the device.")
    var allowWrites = false

    @Option(
        name: .customLong("unit-timeout"),
        help: ArgumentHelp(
            "A unit's own response timeout, UNIT=DURATION (e.g. 2=1.5s); repeat for more.",
            valueName: "unit=duration"
        )
    )
    var unitTimeouts: [String] = []

    @Option(help: "Most clients at once.")
    var maxClients = 16

    func validate() throws {
        try bus.requireConnection()
        guard listen.isLoopback || allowRemote else {
            throw ValidationError(
                "--listen \(listen) is reachable from other machines; add --allow-remote if that is meant (anyone who reaches it can read the meters)"
            )
        }
        guard (1...256).contains(maxClients) else { throw ValidationError("--max-clients must be 1 to 256") }
        _ = try timings()
    }

    /// `--unit-timeout` over `--inter-frame-delay`, by unit.
    func timings() throws -> [UInt8: UnitTiming] {
        var timings: [UInt8: UnitTiming] = [:]
        for text in unitTimeouts {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let unit = UInt8(parts[0]), (1...247).contains(unit),
                let timeout = DurationArgument(argument: parts[1]), timeout.duration >= UnitTiming.minResponseTimeout,
                timeout.duration <= UnitTiming.maxDuration
            else {
                throw ValidationError(
                    "--unit-timeout '\(text)' is not UNIT=DURATION, like 2=1.5s (unit 1-247, 10ms to 60s)"
                )
            }
            timings[unit] = UnitTiming(responseTimeout: timeout.duration, interFrameDelay: bus.interFrameDelay.duration)
        }
        if bus.interFrameDelay.duration > .zero {
            for unit in UInt8(1)...247 where timings[unit] == nil {
                timings[unit] = UnitTiming(interFrameDelay: bus.interFrameDelay.duration)
            }
        }
        return timings
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "meter-agent.proxy")
        let endpoint = try bus.endpoint(defaults: nil)
        let client = try ModbusClient(
            endpoint: endpoint,
            options: bus.clientOptions(),
            timings: try timings(),
            logger: logger
        )
        let server = try ModbusTCPServer(
            host: listen.host,
            port: listen.port,
            proxy: ModbusProxy(client: client, allowWrites: allowWrites, logger: logger),
            options: ServerOptions(logger: logger),
            maxConnections: maxClients
        )
        logger.info(
            "proxying Modbus",
            metadata: [
                "modbus.listen": "\(listen.host):\(server.port)", "device": "\(endpoint)",
                "writes": "\(allowWrites ? "passed on" : "refused")",
            ]
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: ModbusServerService(server: server))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        await client.close()
        logger.info("proxy stopped", metadata: ["requests": "\(server.statistics.requests)"])
    }
}

import Logging
import ModbusBridge
import ServiceLifecycle

/// Builds the fleet's buses and runs them as services until SIGTERM or SIGINT.
package struct Emulator {
    package let fleet: FleetConfig
    package let library: ProfileLibrary
    package let logger: Logger
    /// Where the TCP servers report the clients they disconnect, one line per burst.
    package let drops: ConnectionDropLog

    /// Creates the servers, links and register banks (nothing is served until `run`).
    package func makeBuses() throws -> [EmulatedBus] {
        var buses: [EmulatedBus] = []
        for bus in fleet.buses {
            let maps = try bus.meters.map { try EmulatedRegisterMap.of($0, library: library) }
            let profiles = maps.map(\.profile)
            let meters = try zip(bus.meters, maps).map {
                try EmulatedMeter(config: $0, map: $1, start: fleet.start)
            }
            let units = Dictionary(uniqueKeysWithValues: meters.map { ($0.config.unit, $0.bank) })
            let serial = profiles[0].serial
            let settings = SerialSettings(
                baud: bus.baud ?? serial.baud,
                parity: bus.parity ?? serial.parity,
                dataBits: serial.dataBits,
                stopBits: serial.stopBits
            )
            let options = ServerOptions(
                faults: bus.faults,
                wireTiming: bus.wireTiming,
                idleTimeout: bus.idleTimeout,
                connectionDropped: { [drops] drop in drops.record(drop) },
                responseDelays: Dictionary(
                    uniqueKeysWithValues: bus.meters.compactMap { m in m.responseDelay.map { (m.unit, $0) } }
                ),
                logger: logger
            )
            switch bus.transport {
            case .ptyLink(let path):
                let terminal = try PseudoTerminal()
                try terminal.link(at: path)
                let server = try ModbusRTUServer(
                    pseudoTerminal: terminal,
                    settings: settings,
                    units: units,
                    options: options
                )
                buses.append(
                    EmulatedBus(
                        config: bus,
                        server: server,
                        meters: meters,
                        address: "\(path) -> \(terminal.path) (\(settings))",
                        terminal: terminal
                    )
                )
            case .tcp(let host, let port):
                let server = try ModbusTCPServer(host: host, port: port, units: units, options: options)
                buses.append(
                    EmulatedBus(
                        config: bus,
                        server: server,
                        meters: meters,
                        address: "tcp \(host):\(server.port)",
                        terminal: nil
                    )
                )
            case .device(let path):
                let server = try ModbusRTUServer(device: path, settings: settings, units: units, options: options)
                buses.append(
                    EmulatedBus(
                        config: bus,
                        server: server,
                        meters: meters,
                        address: "\(path) (\(settings))",
                        terminal: nil
                    )
                )
            }
        }
        return buses
    }

    /// Serves until SIGTERM/SIGINT, then stops the servers and removes the links.
    package func run(buses: [EmulatedBus]) async throws {
        defer { for bus in buses { bus.terminal?.removeLinks() } }
        for bus in buses {
            for meter in bus.meters {
                logger.info(
                    "emulating meter",
                    metadata: [
                        "meter.profile": "\(meter.config.profile)", "modbus.unit": "\(meter.config.unit)",
                        "meter.role": "\(meter.config.role.rawValue)", "meter.seed": "\(meter.config.seed)",
                        "bus": "\(bus.address)",
                        "anomalies": "\(meter.config.anomalies.map(\.description).joined(separator: ","))",
                    ]
                )
            }
        }
        let clock = SimulatedClock(start: fleet.start, speed: fleet.speed)
        var services: [any Service] = buses.map { ModbusServerService(server: $0.server) }
        services.append(SimulationService(meters: buses.flatMap(\.meters), clock: clock, logger: logger))
        services.append(DropLogFlusher(drops: drops))
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        logger.info("emulator stopped")
    }

    package init(fleet: FleetConfig, library: ProfileLibrary, logger: Logger) {
        self.fleet = fleet
        self.library = library
        self.logger = logger
        self.drops = ConnectionDropLog(logger: logger)
    }
}

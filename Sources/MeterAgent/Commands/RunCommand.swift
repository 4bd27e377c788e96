import AgentCore
import ArgumentParser
import Foundation
import GridAPI
import HomeAssistantMQTT
import LedgerLite
import LedgerStore
import Logging
import MeterEmulator
import ModbusBridge
import OperatorKit
import ServiceLifecycle

/// `meter-agent run`: poll, sign, store, forward.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Poll meters, sign every reading, keep it on disk until the gateway acknowledges it.",
        discussion: """
            Each poll reads a meter, builds a Reading with the meter's next sequence number, \
            signs it with the meter's key and stores it in the outbox (--data DIR) before \
            anything is sent. A forwarder sends the outbox to the gateway in batches, retries \
            with backoff when it is unreachable, and deletes only what it acknowledged. A \
            restart resumes every meter's sequence; SIGTERM stops polling, tries to send what \
            is left for a few seconds, and exits. Readings the gateway rejects for good are \
            kept in the outbox's `rejected` table.

            One meter:
              meter-agent run --device /dev/ttyUSB0 --unit 1 --profile sdm630 \\
                --key meter.key --gateway http://127.0.0.1:8080 --data agent-data
            Several meters and buses: --config agent.yaml (see docs/AGENT.md).

            With --auto-offer, every --offer-interval the agent offers each producer meter's \
            export since its last accepted offer (POST /v1/offers), counted from the export \
            register of readings the gateway has acknowledged. Export during an outage or a \
            rejection is offered with the next offer; the count starts afresh at each start.

            With --mqtt URL, every stored reading is also published to an MQTT broker, with \
            Home Assistant discovery and availability (docs/AGENT.md). A broker that is down \
            is retried and logged; polling never waits for it.

            OCMF: a meter whose key file has an OCMF key beside it (KEY.ocmf, from \
            `meter-agent keygen --ocmf`) gets one signed OCMF document per settlement period \
            (--ocmf-period, default 15m, aligned to UTC), sent to the gateway with a commitment \
            it records on its chain (docs/AGENT.md, "OCMF"). The agent is not a certified \
            measuring instrument: the documents are not conformant with calibration law.
            """
    )

    @OptionGroup var bus: BusOptions
    @OptionGroup var profileOptions: ProfileOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup(title: "Gateway TLS (also with --config)") var gatewayTrust: GatewayTrustOptions
    @OptionGroup(title: "MQTT and Home Assistant (also with --config)") var mqtt: MQTTOptions

    @Option(name: .long, help: "Unit id of the meter (1-247).")
    var unit: Int?

    @Option(
        name: .long,
        help: "Meter profile name, e.g. sdm630; sunspec for a SunSpec device (found by discovery, no profile needed)."
    )
    var profile: String?

    @Option(name: .long, help: "The meter's private key (from `meter-agent keygen`).")
    var key: String?

    @Option(name: .long, help: "Gateway base URL, e.g. http://127.0.0.1:8080.")
    var gateway: String?

    @Option(
        name: .customLong("gateway-id"),
        help: ArgumentHelp(
            "The gateway's id (32 hex digits, printed by `edge-gateway init` and `enroll`): every reading is signed for that gateway only. Without it the agent uses the id recorded in --data, or asks the gateway once and records it. With --config, give `gateway-id:` in the file.",
            valueName: "id"
        )
    )
    var gatewayID: String?

    @Option(name: .long, help: "Directory for the outbox (created if missing).")
    var data: String?

    @Option(name: .long, help: "Time between polls of each meter (default 5s).")
    var interval: DurationArgument?

    @Option(
        name: .customLong("outbox-limit"),
        help:
            "Most unacknowledged readings kept on disk (default 1000000); when full, polls are skipped (and logged) rather than old readings dropped."
    )
    var outboxLimit: Int?

    @Option(
        name: .long,
        help:
            "The meter's role, as enrolled: producer or consumer (default consumer). With --config, give `role:` per meter in the file."
    )
    var role: MeterRole?

    @Option(name: .long, help: "A YAML agent file with buses and meters; replaces the per-meter flags.")
    var config: String?

    @Flag(
        name: .customLong("auto-offer"),
        help: "Offer each producer meter's new export to the gateway's market every --offer-interval."
    )
    var autoOffer = false

    @Option(
        name: .customLong("offer-interval"),
        help: "With --auto-offer: time between offers (default 60s, at least 1s)."
    )
    var offerInterval: DurationArgument?

    @Option(
        name: .customLong("ocmf-period"),
        help:
            "Settlement period of the OCMF documents of meters with an OCMF key (KEY.ocmf): 1s to 1d, dividing a day (default 15m; periods below a minute are for tests and demos)."
    )
    var ocmfPeriod: DurationArgument?

    /// The OCMF settlement period, ms.
    var ocmfPeriodMs: Int64 {
        ocmfPeriod.map {
            $0.duration.components.seconds * 1000 + $0.duration.components.attoseconds / 1_000_000_000_000_000
        }
            ?? OCMFRecorder.defaultPeriodMs
    }

    func validate() throws {
        if let ocmfPeriod {
            let ms = ocmfPeriodMs
            guard ms >= 1000, ms <= 86_400_000, 86_400_000 % ms == 0 else {
                throw ValidationError(
                    "--ocmf-period must be 1s to 1d and divide a day (5m, 15m, 30m, 1h, …), not \(ocmfPeriod)"
                )
            }
        }
        if config != nil {
            guard !bus.hasConnection, unit == nil, profile == nil, key == nil, role == nil, gateway == nil, data == nil,
                interval == nil, outboxLimit == nil, gatewayID == nil
            else {
                throw ValidationError(
                    "--config names the buses, meters (with their roles), gateway, gateway-id, data, interval and outbox-limit; leave out --device/--tcp/--rtu-tcp, --unit, --profile, --key, --role, --gateway, --gateway-id, --data, --interval and --outbox-limit"
                )
            }
            guard bus.baud == nil, bus.parity == nil, bus.dataBits == nil, bus.stopBits == nil else {
                throw ValidationError(
                    "with --config, give each bus its baud and parity in the file; leave out --baud, --parity, --data-bits and --stop-bits"
                )
            }
        } else {
            try bus.requireConnection()
            guard unit != nil, profile != nil, key != nil, gateway != nil, data != nil else {
                throw ValidationError("give --unit, --profile, --key, --gateway and --data (or --config FILE)")
            }
            if let unit, !(1...247).contains(unit) { throw ValidationError("--unit must be 1 to 247, not \(unit)") }
            if let gateway, URL(string: gateway)?.scheme.map({ ["http", "https"].contains($0) }) != true {
                throw ValidationError("--gateway '\(gateway)' is not an http:// or https:// URL")
            }
        }
        if let offerInterval {
            guard autoOffer else { throw ValidationError("--offer-interval goes with --auto-offer") }
            guard offerInterval.duration >= AgentDefaults.minimumOfferInterval else {
                throw ValidationError("--offer-interval must be at least 1s, not \(offerInterval)")
            }
        }
        if let gatewayID, GatewayID(hex: gatewayID) == nil {
            throw ValidationError(
                "--gateway-id '\(gatewayID)' is not a gateway id: 32 hex digits, printed by `edge-gateway init` and `enroll`"
            )
        }
        if let outboxLimit, outboxLimit <= 0 { throw ValidationError("--outbox-limit must be positive") }
        if let interval, interval.duration < AgentDefaults.minimumInterval {
            throw ValidationError("--interval must be at least 100ms")
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "meter-agent.run")
        let configuration = try agentConfig()
        let tls = try gatewayTrust.clientTLS()
        let library = try profileOptions.library()
        let outbox = try Outbox(directory: configuration.data, capacity: configuration.outboxLimit)
        let addressee = GatewayAddressee(outbox: outbox, gateway: configuration.gateway, logger: logger)
        let gatewayID = try await GatewayClient.withClient(base: configuration.gateway, tls: tls) { http in
            try await addressee.resolve(configured: configuration.gatewayID) {
                try await http.gatewayID(timeout: .seconds(10))
            }
        }
        var pollers: [BusPoller] = []
        for (index, busConfig) in configuration.buses.enumerated() {
            pollers.append(
                try await poller(
                    for: busConfig,
                    index: index,
                    configuration: configuration,
                    gatewayID: gatewayID,
                    library: library,
                    outbox: outbox,
                    logger: logger
                )
            )
        }
        var identities: [String: SigningIdentity] = [:]
        for meter in pollers.flatMap(\.meters) {
            guard identities.updateValue(meter.identity, forKey: meter.identity.id.hex) == nil else {
                throw OperatorError(
                    "two meters use the key of meter \(meter.identity.id.hex); every meter needs its own key (meter-agent keygen)"
                )
            }
        }
        let publisher = try mqtt.publisher(
            meters: pollers.flatMap(\.meters),
            file: configuration.mqtt,
            logger: logger
        )
        if let publisher {
            for index in pollers.indices { pollers[index].readings = HomeAssistantReadings(publisher: publisher) }
        }
        let producers = try autoOffer ? offeringProducers(pollers.flatMap(\.meters)) : []
        let pending = try await outbox.pendingCount()
        logger.info(
            "agent started",
            metadata: [
                "gateway": "\(configuration.gateway)", "gateway.id": "\(gatewayID.hex)",
                "data": "\(configuration.data)", "pending": "\(pending)", "interval": "\(configuration.interval)",
            ]
        )
        try await GatewayClient.withClient(base: configuration.gateway, tls: tls) { http in
            var forwarder = Forwarder(
                outbox: outbox,
                gateway: configuration.gateway,
                gatewayID: gatewayID,
                httpClient: http.client,
                identities: identities,
                logger: logger
            )
            forwarder.tls = tls
            // ServiceGroup stops services in reverse order, one after the other: the pollers
            // (last) stop first, then the forwarder sends what they stored, then the
            // auto-offerer offers what the forwarder got acknowledged.
            var services: [any Service] = [forwarder] + pollers
            if !producers.isEmpty {
                let ledger = ExportLedger(producers: producers.map(\.id), logger: logger)
                forwarder.exports = ledger
                let interval = offerInterval?.duration ?? AgentDefaults.offerInterval
                services =
                    [
                        AutoOfferer(
                            producers: producers,
                            ledger: ledger,
                            gateway: http,
                            interval: interval,
                            logger: logger
                        ),
                        forwarder,
                    ] + pollers
                logger.info(
                    "auto-offer on",
                    metadata: [
                        "producers": "\(producers.map(\.id.hex).joined(separator: ","))",
                        "offer_interval": "\(interval)",
                    ]
                )
            }
            // The MQTT publisher first, so it stops last: after the pollers' last readings.
            if let publisher { services.insert(publisher, at: 0) }
            let group = ServiceGroup(
                configuration: .init(
                    services: services.map { .init(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger
                )
            )
            try await group.run()
        }
        let left = try await outbox.pendingCount()
        logger.info("agent stopped", metadata: ["pending": "\(left)"])
    }

    private func poller(
        for busConfig: AgentConfig.Bus,
        index: Int,
        configuration: AgentConfig,
        gatewayID: GatewayID,
        library: ProfileLibrary,
        outbox: Outbox,
        logger: Logger
    ) async throws -> BusPoller {
        // nil for a SunSpec meter: its map is found by discovery.
        let profiles = try busConfig.meters.map { meter -> MeterProfile? in
            if SunSpecMeterAccess.model(inProfileName: meter.profile) != nil { return nil }
            return try library.profile(named: meter.profile)
        }
        // This bus's settings over the first meter's factory settings; RS-485 and RTS flags for all.
        let factory = profiles[0]?.serial ?? SerialDefaults()
        let defaults = SerialDefaults(
            baud: busConfig.baud ?? factory.baud,
            parity: busConfig.parity ?? factory.parity,
            dataBits: busConfig.dataBits ?? factory.dataBits,
            stopBits: busConfig.stopBits ?? factory.stopBits
        )
        let endpoint = busConfig.address.endpoint(serial: bus.serialSettings(defaults: defaults))
        // Each meter's own timing from the agent file, else `--inter-frame-delay` for all.
        let timings = Dictionary(
            busConfig.meters.compactMap { meter in
                (meter.timing ?? bus.timings(unit: meter.unit)[meter.unit]).map { (meter.unit, $0) }
            },
            uniquingKeysWith: { first, _ in first }
        )
        let client = try ModbusClient(
            endpoint: endpoint,
            options: bus.clientOptions(),
            timings: timings,
            logger: logger
        )
        var meters: [PolledMeter] = []
        for (meter, profile) in zip(busConfig.meters, profiles) {
            let identity: SigningIdentity
            do {
                identity = try KeyFile.readPrivateKey(from: meter.key)
            } catch {
                throw OperatorError("\(error)")
            }
            let ocmf = try ocmfRecorder(forMeterKey: meter.key, logger: logger)
            guard let profile else {
                meters.append(
                    await sunspecMeter(
                        meter,
                        identity: identity,
                        ocmf: ocmf,
                        client: client,
                        endpoint: endpoint,
                        logger: logger
                    )
                )
                continue
            }
            let factory = ReadingFactory(profile: profile)
            guard factory.measurands.contains(.energyImportWh) || factory.measurands.contains(.energyExportWh) else {
                throw OperatorError(
                    "profile \(profile.name) has no energy register with OBIS 1-0:1.8.0 or 1-0:2.8.0 in kWh or Wh; a signed reading needs one"
                )
            }
            logger.info(
                "polling meter",
                metadata: [
                    "meter.id": "\(identity.id.hex)", "meter.profile": "\(profile.name)", "meter.role": "\(meter.role)",
                    "modbus.unit": "\(meter.unit)", "bus": "\(endpoint)",
                ]
            )
            meters.append(
                PolledMeter(
                    reader: MeterReader(client: client, profile: profile, unit: meter.unit),
                    factory: factory,
                    identity: identity,
                    role: meter.role,
                    ocmf: ocmf
                )
            )
        }
        return BusPoller(
            name: "\(endpoint)",
            meters: meters,
            gateway: gatewayID,
            interval: configuration.interval,
            outbox: outbox,
            logger: logger
        )
    }

    /// The meter's OCMF recorder when its OCMF key (KEY.ocmf) exists, else nil.
    func ocmfRecorder(forMeterKey key: String, logger: Logger) throws -> OCMFRecorder? {
        let path = OCMFKeyPaths(meterKey: key).privateKey
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let recorder = OCMFRecorder(key: try OCMFKeyFile.readPrivateKey(from: path), periodMs: ocmfPeriodMs)
            logger.info(
                "OCMF documents on",
                metadata: [
                    "ocmf.key": "\(path)", "ocmf.period_ms": "\(recorder.periodMs)",
                    "ocmf.public_key": "\(OCMFKeyFile.publicKeyHex(recorder.key.publicKey))",
                ]
            )
            return recorder
        } catch {
            throw OperatorError("\(error)")
        }
    }

    /// A SunSpec meter (`profile: sunspec`), discovered now if it answers; else discovery is
    /// tried again before each poll until it succeeds.
    private func sunspecMeter(
        _ meter: AgentConfig.Meter,
        identity: SigningIdentity,
        ocmf: OCMFRecorder?,
        client: ModbusClient,
        endpoint: ModbusEndpoint,
        logger: Logger
    ) async -> PolledMeter {
        let model = SunSpecMeterAccess.model(inProfileName: meter.profile) ?? nil
        let access = SunSpecMeterAccess(client: client, unit: meter.unit, model: model)
        var metadata: Logger.Metadata = [
            "meter.id": "\(identity.id.hex)", "meter.role": "\(meter.role)", "modbus.unit": "\(meter.unit)",
            "bus": "\(endpoint)",
        ]
        do {
            let (reader, factory) = try await access.resolve()
            metadata["meter.profile"] = "\(reader.profile.name)"
            metadata["sunspec.model"] = "\(reader.profile.manufacturer) \(reader.profile.model)"
            logger.info("polling meter (SunSpec map found)", metadata: metadata)
            return PolledMeter(
                sunspec: access,
                reader: reader,
                factory: factory,
                identity: identity,
                role: meter.role,
                ocmf: ocmf
            )
        } catch {
            metadata["error"] = "\(error)"
            logger.warning("SunSpec discovery failed; trying again before each poll", metadata: metadata)
            let standIn = MeterProfile(
                name: "sunspec",
                manufacturer: "SunSpec",
                model: "not discovered yet",
                measurands: []
            )
            return PolledMeter(
                sunspec: access,
                reader: MeterReader(client: client, profile: standIn, unit: meter.unit),
                factory: ReadingFactory(profile: standIn),
                identity: identity,
                role: meter.role,
                ocmf: ocmf
            )
        }
    }

    /// The keys of the producer meters whose export --auto-offer offers.
    func offeringProducers(_ meters: [PolledMeter]) throws -> [SigningIdentity] {
        let producers = meters.filter { $0.role == .producer }
        guard !producers.isEmpty else {
            throw OperatorError(
                "--auto-offer offers the export of producer meters, and no meter is one; give --role producer (or `role: producer` for the meter in the agent file)"
            )
        }
        // A SunSpec meter not discovered yet cannot say: its readings will tell.
        for meter in producers
        where meter.reader.profile.name != "sunspec" && !meter.factory.measurands.contains(.energyExportWh) {
            throw OperatorError(
                "meter \(meter.identity.id.hex) (profile \(meter.reader.profile.name)) has no export energy register (OBIS 1-0:2.8.0); --auto-offer needs one to know what it produced"
            )
        }
        return producers.map(\.identity)
    }

    /// The configuration from --config, or from the flags.
    func agentConfig() throws -> AgentConfig {
        if let config { return try AgentFile.load(path: config) }
        guard let gateway, let url = URL(string: gateway) else {
            throw OperatorError("--gateway is required: the gateway's URL, e.g. http://127.0.0.1:8080")
        }
        return AgentConfig(
            gateway: url,
            gatewayID: gatewayID.flatMap(GatewayID.init(hex:)),
            data: data ?? "agent-data",
            interval: interval?.duration ?? AgentDefaults.interval,
            outboxLimit: outboxLimit ?? AgentDefaults.outboxLimit,
            buses: [
                AgentConfig.Bus(
                    address: try bus.address(),
                    baud: bus.baud,
                    parity: bus.parity.flatMap(Parity.init(flag:)),
                    dataBits: bus.dataBits,
                    stopBits: bus.stopBits,
                    meters: [
                        AgentConfig.Meter(
                            unit: UInt8(unit ?? 1),
                            profile: profile ?? "",
                            key: key ?? "",
                            role: role ?? .consumer
                        )
                    ]
                )
            ]
        )
    }
}

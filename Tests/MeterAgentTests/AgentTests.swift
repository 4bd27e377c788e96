import AsyncHTTPClient
import Foundation
import GridAPI
import Hummingbird
import LedgerLite
import Logging
import ModbusBridge
import OperatorKit
import Synchronization
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

@Suite("Agent: readings, outbox, forwarding")
struct AgentTests {
    let sdm630 = try! testLibrary.profile(named: "sdm630")

    func temporaryDirectory() -> String {
        makeTempDir(prefix: "gl-agent")
    }

    func snapshot(_ profile: MeterProfile, _ values: [String: Double]) -> MeterSnapshot {
        let measurements = profile.measurands.compactMap { measurand -> ModbusBridge.Measurement? in
            guard let value = values[measurand.name] else { return nil }
            return ModbusBridge.Measurement(measurand: measurand, raw: .float(value), value: value)
        }
        return MeterSnapshot(
            profile: profile.name,
            unit: 1,
            takenAt: Date(timeIntervalSince1970: 1_782_043_200.5),
            measurements: measurements,
            requests: 1,
            busTime: .zero
        )
    }

    /// A fresh outbox holding `count` signed readings of a new meter.
    func outboxWithReadings(_ count: Int) async throws -> (Outbox, SigningIdentity) {
        let outbox = try Outbox(directory: temporaryDirectory(), capacity: 100)
        let identity = SigningIdentity()
        let factory = ReadingFactory(profile: sdm630)
        let values = snapshot(sdm630, ["energy_import": 5])
        for _ in 0..<count {
            _ = try await outbox.append(meter: identity.id) { sequence in
                try SignedRecord.sign(
                    .reading(
                        factory.reading(from: values, meter: identity.id, gateway: testGatewayID, sequence: sequence)
                    ),
                    with: identity
                )
            }
        }
        return (outbox, identity)
    }

    @Test("a snapshot becomes a reading in Wh, W, dV, mA and mHz, found by OBIS code")
    func readingFromSnapshot() throws {
        let identity = try SigningIdentity(seed: [UInt8](repeating: 7, count: 32))
        let values = [
            "energy_import": 1234.5678, "energy_export": 0.25, "power_total": -1485.4,
            "voltage_l1": 230.14, "current_l2": 1.5, "frequency": 50.02, "power_factor_total": 0.97,
        ]
        let reading = try ReadingFactory(profile: sdm630)
            .reading(from: snapshot(sdm630, values), meter: identity.id, gateway: testGatewayID, sequence: 9)
        #expect(reading[.energyImportWh] == 1_234_568)
        #expect(reading[.energyExportWh] == 250)
        #expect(reading[.activePowerW] == -1485)
        #expect(reading[.voltageL1dV] == 2301)
        #expect(reading[.currentL2mA] == 1500)
        #expect(reading[.frequencyMilliHz] == 50_020)
        #expect(reading[.powerFactorMilli] == 970)
        #expect(reading.sequence == 9 && reading.meter == identity.id)
        #expect(reading.gateway == testGatewayID, "addressed to the agent's gateway")
        // The SDM630's counters move in 0.01 kWh: the reading states 10 Wh for each (version 3).
        #expect(reading[.energyImportResolutionWh] == 10 && reading[.energyExportResolutionWh] == 10)
        #expect(reading.version == 3)
        #expect(reading.timestamp == 1_782_043_200_500)
        #expect(reading.status.isEmpty)
    }

    @Test("the integer EM24 maps too, and a tamper register sets the tamper flag")
    func em24AndTamper() throws {
        let em24 = try testLibrary.profile(named: "em24")
        let factory = ReadingFactory(profile: em24)
        #expect(factory.measurands.contains(.energyImportWh) && factory.measurands.contains(.voltageL3dV))
        let withTamper = try ProfileLoader.parse(
            """
            name: t
            manufacturer: T
            model: T
            measurands:
              - { name: energy_import, obis: "1-0:1.8.0", table: input, address: 0, type: uint32, unit: Wh }
              - { name: tamper, table: input, address: 2, type: uint16, unit: "" }
            """,
            file: "t.yaml"
        )
        let reading = try ReadingFactory(profile: withTamper).reading(
            from: snapshot(withTamper, ["energy_import": 42, "tamper": 1]),
            meter: KeyID(high: 1, low: 2),
            gateway: testGatewayID,
            sequence: 1
        )
        #expect(reading.status.contains(.tamper))
        #expect(reading[.energyImportWh] == 42)
    }

    @Test("the outbox numbers readings from 1 without gaps and resumes after a restart")
    func outboxSequences() async throws {
        let directory = temporaryDirectory()
        let identity = SigningIdentity()
        let factory = ReadingFactory(profile: sdm630)
        let values = snapshot(sdm630, ["energy_import": 1])
        do {
            let outbox = try Outbox(directory: directory, capacity: 100)
            for _ in 0..<3 {
                _ = try await outbox.append(meter: identity.id) { sequence in
                    try SignedRecord.sign(
                        .reading(
                            factory.reading(
                                from: values,
                                meter: identity.id,
                                gateway: testGatewayID,
                                sequence: sequence
                            )
                        ),
                        with: identity
                    )
                }
            }
            let items = try await outbox.oldest(limit: 10)
            #expect(items.map(\.sequence) == [1, 2, 3])
            try await outbox.acknowledge([items[0].id])
        }
        let reopened = try Outbox(directory: directory, capacity: 100)
        #expect(try await reopened.lastSequence(of: identity.id) == 3)
        #expect(try await reopened.oldest(limit: 10).map(\.sequence) == [2, 3])
        let next = try await reopened.append(meter: identity.id) { sequence in
            try SignedRecord.sign(
                .reading(factory.reading(from: values, meter: identity.id, gateway: testGatewayID, sequence: sequence)),
                with: identity
            )
        }
        guard case .reading(let reading) = next.record else {
            Issue.record("not a reading")
            return
        }
        #expect(reading.sequence == 4)
    }

    @Test("a full outbox refuses new readings instead of dropping old ones, and keeps the sequence")
    func outboxFull() async throws {
        let outbox = try Outbox(directory: temporaryDirectory(), capacity: 2)
        let identity = SigningIdentity()
        let factory = ReadingFactory(profile: sdm630)
        let values = snapshot(sdm630, ["energy_import": 1])
        let make: @Sendable (UInt64) throws -> SignedRecord = { sequence in
            try SignedRecord.sign(
                .reading(factory.reading(from: values, meter: identity.id, gateway: testGatewayID, sequence: sequence)),
                with: identity
            )
        }
        _ = try await outbox.append(meter: identity.id, build: make)
        _ = try await outbox.append(meter: identity.id, build: make)
        await #expect(throws: Outbox.OutboxFull.self) { _ = try await outbox.append(meter: identity.id, build: make) }
        #expect(try await outbox.pendingCount() == 2)
        #expect(try await outbox.lastSequence(of: identity.id) == 2)
    }

    @Test(
        "the forwarder survives an outage, deletes only acknowledged readings, keeps rejected ones and closes their gap"
    )
    func forwarding() async throws {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }

        let (outbox, identity) = try await outboxWithReadings(5)
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await exerciseForwarder(
                gateway: gateway,
                port: port,
                outbox: outbox,
                httpClient: httpClient,
                identity: identity
            )
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }

    private func exerciseForwarder(
        gateway: FakeGateway,
        port: Int,
        outbox: Outbox,
        httpClient: HTTPClient,
        identity: SigningIdentity
    ) async throws {
        let forwarder = Forwarder(
            outbox: outbox,
            gateway: URL(string: "http://127.0.0.1:\(port)")!,
            gatewayID: testGatewayID,
            httpClient: httpClient,
            identities: [identity.id.hex: identity],
            logger: silentLogger
        )

        gateway.mode.withLock { $0 = .down }
        await #expect(throws: GatewayError.self) { _ = try await forwarder.sendOnce(limit: 10) }
        #expect(try await outbox.pendingCount() == 5, "nothing is lost while the gateway is down")

        // Back up: sequence 2 is rejected for good, 4 must wait. The rejected reading is kept
        // aside and the meter's later readings take its number: the chain allows no gap.
        gateway.mode.withLock { $0 = .answering([2: .badSignature, 4: .unknownMeter]) }
        let outcome = try await forwarder.sendOnce(limit: 10)
        guard case .sent(let retryLater) = outcome else {
            Issue.record("expected a delivered batch")
            return
        }
        #expect(retryLater)
        #expect(try await outbox.rejectedCount() == 1)
        let renumbered = try await outbox.oldest(limit: 10)
        #expect(renumbered.map(\.sequence) == [2, 3, 4])
        for item in renumbered {
            let record = try SignedRecord(bytes: item.bytes)
            #expect(record.isSignatureValid(by: identity.publicIdentity), "signed again by the meter's key")
            guard case .reading(let reading) = record.record else {
                Issue.record("not a reading")
                continue
            }
            #expect(reading.sequence == item.sequence)
        }
        #expect(try await outbox.lastSequence(of: identity.id) == 4)

        gateway.mode.withLock { $0 = .answering([:]) }
        _ = try await forwarder.sendOnce(limit: 10)
        #expect(try await outbox.pendingCount() == 0)
        #expect(gateway.received.withLock { $0 } == [1, 2, 3, 4, 5, 2, 3, 4])
    }
}

extension AgentTests {
    @Test("the forwarder waits as a gateway's 429 Retry-After says before sending again")
    func forwarderHonoursRetryAfter() async throws {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }
        let (outbox, identity) = try await outboxWithReadings(5)
        var forwarder = Forwarder(
            outbox: outbox,
            gateway: URL(string: "http://127.0.0.1:\(port)")!,
            gatewayID: testGatewayID,
            httpClient: .gridLedger,
            identities: [identity.id.hex: identity],
            logger: silentLogger
        )
        forwarder.batchSize = 1
        // Throttled for 1.5 s, and each 429 says "retry after 2 s": an agent that waits as told
        // is refused once; one that retries on its own backoff (250 ms, 500 ms, 1 s) is
        // refused again and again within those 1.5 s.
        gateway.throttleUntil.withLock { $0 = .now + .milliseconds(1500) }
        let running = Task { try await forwarder.run() }
        defer { running.cancel() }
        try await waitUntil("every reading delivered", timeout: .seconds(60)) {
            try await outbox.pendingCount() == 0
        }
        #expect(gateway.throttled.withLock { $0 } == 1)
        #expect(gateway.received.withLock { $0 } == [1, 2, 3, 4, 5])
    }

    @Test("an agent whose numbering fell behind the chain's continues after the chain's last reading")
    func numberingBehind() async throws {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }
        let (outbox, identity) = try await outboxWithReadings(3)
        // The chain already holds readings 1…40 of this meter from a lost outbox.
        gateway.chainLastSequence.withLock { $0 = 40 }
        gateway.mode.withLock {
            $0 = .answering([1: .conflictingDuplicate, 2: .conflictingDuplicate, 3: .conflictingDuplicate])
        }
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        let forwarder = Forwarder(
            outbox: outbox,
            gateway: URL(string: "http://127.0.0.1:\(port)")!,
            gatewayID: testGatewayID,
            httpClient: httpClient,
            identities: [identity.id.hex: identity],
            logger: silentLogger
        )
        do {
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await outbox.oldest(limit: 10).map(\.sequence) == [41, 42, 43])
            #expect(try await outbox.lastSequence(of: identity.id) == 43)
            #expect(try await outbox.rejectedCount() == 0, "nothing is discarded")
            gateway.mode.withLock { $0 = .answering([:]) }
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await outbox.pendingCount() == 0)
        } catch {
            try await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
    }
}

/// The gateway the tests' agents address their readings to (the gateway key of FORMATS.md).
let testGatewayID = GatewayID(high: 0x8a47_cf56_c4b4_20a7, low: 0x37fe_a607_f98b_0dce)

extension AgentTests {
    /// A queued reading of the outbox, decoded.
    func queuedReadings(_ outbox: Outbox) async throws -> [Reading] {
        try await outbox.oldest(limit: 100).map { item in
            guard case .reading(let r) = try SignedRecord(bytes: item.bytes).record else {
                throw RenumberError.notAReading
            }
            return r
        }
    }

    @Test("a polled meter's reading is stored as version 2, signed for the agent's gateway")
    func pollerSignsForItsGateway() async throws {
        let bus = try RunningBus(meters: [meter("sdm630", unit: 1)])
        let outbox = try Outbox(directory: temporaryDirectory(), capacity: 100)
        let identity = SigningIdentity()
        let polled = PolledMeter(
            reader: MeterReader(client: try bus.client(attempts: 3), profile: sdm630, unit: 1),
            factory: ReadingFactory(profile: sdm630),
            identity: identity
        )
        let poller = BusPoller(
            name: "test",
            meters: [polled],
            gateway: testGatewayID,
            interval: .seconds(1),
            outbox: outbox,
            logger: silentLogger
        )
        await poller.poll(polled, failures: RateLimitedLog(logger: silentLogger, interval: .seconds(30)))
        let stored = try #require(try await outbox.oldest(limit: 10).first)
        let record = try SignedRecord(bytes: stored.bytes)
        #expect(record.isSignatureValid(by: identity.publicIdentity))
        #expect(stored.bytes[23] == 3, "the body's version byte: addressed, with counter resolutions")
        guard case .reading(let reading) = record.record else {
            Issue.record("not a reading")
            return
        }
        #expect(reading.version == 3 && reading.gateway == testGatewayID && reading.sequence == 1)
    }

    @Test("the gateway's id comes from --gateway-id, else the data directory, else the gateway, asked once")
    func gatewayIDIsKnownBeforeTheFirstPoll() async throws {
        let directory = temporaryDirectory()
        let other = GatewayID(high: 1, low: 2)
        let outbox = try Outbox(directory: directory, capacity: 10)
        let addressee = GatewayAddressee(
            outbox: outbox,
            gateway: URL(string: "http://127.0.0.1:1")!,
            logger: silentLogger
        )
        let down: @Sendable () async throws -> String = { throw GatewayError.mismatchedAnswer("connection refused") }

        // First start, gateway down, no id given: refused with the fix, nothing polled yet.
        let error = await #expect(throws: GatewayAddresseeError.self) {
            _ = try await addressee.resolve(configured: nil, ask: down)
        }
        #expect(error?.description.contains("--gateway-id") == true)

        // Learned from the gateway once, and recorded.
        #expect(try await addressee.resolve(configured: nil) { testGatewayID.hex } == testGatewayID)
        #expect(try await outbox.addressee() == testGatewayID)
        // A restart while the gateway is down addresses readings to the recorded id.
        let reopened = GatewayAddressee(
            outbox: try Outbox(directory: directory, capacity: 10),
            gateway: URL(string: "http://127.0.0.1:1")!,
            logger: silentLogger
        )
        #expect(try await reopened.resolve(configured: nil, ask: down) == testGatewayID)
        // A given id wins, without asking, and is recorded for the next start.
        #expect(try await reopened.resolve(configured: other, ask: down) == other)
        #expect(try await reopened.outbox.addressee() == other)
        // A gateway that answers something else than an id.
        let fresh = GatewayAddressee(
            outbox: try Outbox(directory: temporaryDirectory(), capacity: 10),
            gateway: URL(string: "http://127.0.0.1:1")!,
            logger: silentLogger
        )
        await #expect(throws: GatewayAddresseeError.notAnID(gateway: fresh.gateway, answer: "ok")) {
            _ = try await fresh.resolve(configured: nil) { "ok" }
        }
    }

    @Test("an agent file may give the gateway's id; one that is not an id is refused with its key")
    func agentFileGatewayID() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func load(_ line: String) throws -> AgentConfig {
            let path = directory + "/agent.yaml"
            try """
            gateway: http://127.0.0.1:8080
            \(line)
            data: agent-data
            buses:
              - tcp: 127.0.0.1:502
                meters:
                  - { unit: 1, profile: sdm630, key: house.key }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return try AgentFile.load(path: path)
        }
        #expect(try load("gateway-id: \(testGatewayID.hex)").gatewayID == testGatewayID)
        #expect(try load("").gatewayID == nil)
        let error = #expect(throws: ConfigFileError.self) { try load("gateway-id: north") }
        #expect(error?.description.contains("gateway-id: 'north' is not a gateway id") == true)
    }

    @Test("the agent learns the gateway's id from GET /healthz")
    func gatewayIDFromHealth() async throws {
        let id = try await FakeGateway.serving { _, http in try await http.gatewayID(timeout: .seconds(5)) }
        #expect(id == testGatewayID.hex)
    }

    @Test("version 1 readings the gateway retired are signed again as version 2 for it, keeping their numbers")
    func retiredVersion1ReadingsAreReaddressed() async throws {
        let outbox = try Outbox(directory: temporaryDirectory(), capacity: 100)
        let identity = SigningIdentity()
        for _ in 0..<3 {
            _ = try await outbox.append(meter: identity.id) { sequence in
                let r = try Reading(meter: identity.id, sequence: sequence, timestamp: 1_782_043_200_000, values: [])
                return try SignedRecord.sign(.reading(r), with: identity)
            }
        }
        try await FakeGateway.serving { gateway, http in
            let forwarder = Forwarder(
                outbox: outbox,
                gateway: http.base,
                gatewayID: testGatewayID,
                httpClient: http.client,
                identities: [identity.id.hex: identity],
                logger: silentLogger
            )
            gateway.mode.withLock { $0 = .answering([2: .retiredReadingVersion, 3: .sequenceGap]) }
            _ = try await forwarder.sendOnce(limit: 10)
            let queued = try await queuedReadings(outbox)
            #expect(queued.map(\.sequence) == [2, 3])
            #expect(queued.map(\.gateway) == [testGatewayID, testGatewayID])
            #expect(try await outbox.rejectedCount() == 0, "nothing set aside")
            #expect(try await outbox.lastSequence(of: identity.id) == 3)
            for item in try await outbox.oldest(limit: 10) {
                #expect(try SignedRecord(bytes: item.bytes).isSignatureValid(by: identity.publicIdentity))
            }
            gateway.mode.withLock { $0 = .answering([:]) }
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await outbox.pendingCount() == 0)
        }
    }

    @Test("readings refused as wrong-gateway move to the agent's gateway, or wait when already addressed to it")
    func wrongGatewayReadings() async throws {
        let outbox = try Outbox(directory: temporaryDirectory(), capacity: 100)
        let identity = SigningIdentity()
        let previous = GatewayID(high: 5, low: 5)
        for _ in 0..<2 {
            _ = try await outbox.append(meter: identity.id) { sequence in
                let r = try Reading(
                    meter: identity.id,
                    gateway: previous,
                    sequence: sequence,
                    timestamp: 1_782_043_200_000,
                    values: []
                )
                return try SignedRecord.sign(.reading(r), with: identity)
            }
        }
        try await FakeGateway.serving { gateway, http in
            let forwarder = Forwarder(
                outbox: outbox,
                gateway: http.base,
                gatewayID: testGatewayID,
                httpClient: http.client,
                identities: [identity.id.hex: identity],
                logger: silentLogger
            )
            // Readings queued for the gateway the agent used before: signed again for this one.
            gateway.mode.withLock { $0 = .answering([1: .wrongGateway, 2: .sequenceGap]) }
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await queuedReadings(outbox).map(\.gateway) == [testGatewayID, testGatewayID])

            // Refused although addressed to the agent's gateway: --gateway and --gateway-id
            // disagree. Only the operator knows which is right: the readings wait, unchanged.
            let before = try await outbox.oldest(limit: 10).map(\.bytes)
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await outbox.oldest(limit: 10).map(\.bytes) == before)
            #expect(try await outbox.rejectedCount() == 0)

            gateway.mode.withLock { $0 = .answering([:]) }
            _ = try await forwarder.sendOnce(limit: 10)
            #expect(try await outbox.pendingCount() == 0)
        }
    }
}

/// A stand-in gateway that answers batches as told.
final class FakeGateway: Sendable {
    enum Mode: Sendable {
        case down
        case answering([UInt64: IngestReason])
    }

    let mode = Mutex<Mode>(.answering([:]))
    /// Until when `POST /v1/readings` is answered 429 with `Retry-After: 2`, and how many were.
    let throttleUntil = Mutex<ContinuousClock.Instant?>(nil)
    let throttled = Mutex<Int>(0)
    /// What `GET /v1/meters/{id}` says the chain holds.
    let chainLastSequence = Mutex<UInt64>(0)
    /// Sequence numbers received, in order.
    let received = Mutex<[UInt64]>([])
    /// Offers and requests (FakeMarket.swift).
    let market = Mutex<FakeMarket>(FakeMarket())
    private let task = Mutex<Task<Void, any Error>?>(nil)

    func application(port: Int = 0, onBind: (@Sendable (Int) -> Void)? = nil) -> some ApplicationProtocol {
        let router = Router()
        router.get("healthz") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status": "ok", "gateway": "\#(testGatewayID.hex)"}"#))
            )
        }
        router.get("v1/meters/:id") { _, _ -> Response in
            let body = #"{"lastSequence": \#(self.chainLastSequence.withLock { $0 })}"#
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        addTradeRoutes(to: router)
        router.post("v1/readings") { request, context -> Response in
            if let until = self.throttleUntil.withLock({ $0 }), ContinuousClock.now < until {
                self.throttled.withLock { $0 += 1 }
                return Response(
                    status: .tooManyRequests,
                    headers: [.contentType: "application/json", .retryAfter: "2"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error": "too many write requests"}"#))
                )
            }
            if case .down = self.mode.withLock({ $0 }) {
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "maintenance")))
            }
            let batch = try await request.decode(as: IngestBatch.self, context: context)
            let rejections: [UInt64: IngestReason] =
                if case .answering(let map) = self.mode.withLock({ $0 }) { map } else { [:] }
            var results: [IngestResult] = []
            for (index, text) in batch.records.enumerated() {
                let signed = try SignedRecord(bytes: [UInt8](Data(base64Encoded: text) ?? Data()))
                guard case .reading(let reading) = signed.record else { continue }
                self.received.withLock { $0.append(reading.sequence) }
                if let reason = rejections[reading.sequence] {
                    results.append(
                        IngestResult(
                            index: index,
                            status: .rejected,
                            meter: reading.meter.hex,
                            sequence: reading.sequence,
                            reason: reason
                        )
                    )
                } else {
                    results.append(
                        IngestResult(
                            index: index,
                            status: .accepted,
                            meter: reading.meter.hex,
                            sequence: reading.sequence
                        )
                    )
                }
            }
            let data = try JSONEncoder().encode(IngestResponse(results: results))
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in onBind?(channel.localAddress?.port ?? 0) }
        )
    }

    /// Serves on a free port and returns it.
    func start() async throws -> Int {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = application(onBind: { continuation.yield($0) })
        task.withLock { $0 = Task { try await app.runService() } }
        for await port in stream { return port }
        throw CancellationError()
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }
}

extension AgentTests {
    @Test("run's serial flags reach the bus, over the profile's factory settings")
    func runSerialFlags() throws {
        let command = try RunCommand.parse([
            "--device", "/dev/ttyUSB0", "--unit", "1", "--profile", "sdm120", "--key", "k", "--gateway",
            "http://127.0.0.1:1",
            "--data", "d", "--parity", "E", "--stop-bits", "2",
        ])
        let bus = try command.agentConfig().buses[0]
        #expect(bus.parity == .even && bus.stopBits == 2 && bus.baud == nil)
        let sdm120 = try testLibrary.profile(named: "sdm120")
        let defaults = SerialDefaults(
            baud: bus.baud ?? sdm120.serial.baud,
            parity: bus.parity ?? sdm120.serial.parity,
            dataBits: bus.dataBits ?? sdm120.serial.dataBits,
            stopBits: bus.stopBits ?? sdm120.serial.stopBits
        )
        #expect(
            bus.address.endpoint(serial: command.bus.serialSettings(defaults: defaults))
                == .rtu(device: "/dev/ttyUSB0", settings: SerialSettings(baud: 2400, parity: .even, stopBits: 2))
        )
    }

    @Test("an agent file with two connections on one bus names the bus")
    func agentFileTwoConnections() throws {
        let file = makeTempDir(prefix: "gl-agent-file")
        try """
        gateway: http://127.0.0.1:8080
        data: d
        buses:
          - { device: /dev/ttyUSB0, tcp: "127.0.0.1:502", meters: [{ unit: 1, profile: sdm630, key: k }] }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigFileError.self) { try AgentFile.load(path: file) }
        #expect(error?.description == "\(file): buses[0]: give exactly one of device, tcp or rtu-tcp")
    }

    @Test("an agent file's mqtt block: paths relative to the file, a bad url named")
    func agentFileMQTT() throws {
        let directory = temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func load(_ mqtt: String) throws -> AgentConfig {
            let path = directory + "/agent.yaml"
            try """
            gateway: http://127.0.0.1:8080
            data: agent-data
            \(mqtt)
            buses:
              - tcp: 127.0.0.1:502
                meters:
                  - { unit: 1, profile: sdm630, key: house.key }
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return try AgentFile.load(path: path)
        }
        #expect(try load("").mqtt == nil)
        let config = try load(
            "mqtt: { url: \"mqtts://broker:8883\", username: ha, password-file: mqtt.pass, ca: ca.pem, node: garage }"
        )
        #expect(
            config.mqtt
                == AgentConfig.MQTT(
                    url: "mqtts://broker:8883",
                    username: "ha",
                    passwordFile: directory + "/mqtt.pass",
                    caFile: directory + "/ca.pem",
                    node: "garage"
                )
        )
        let error = #expect(throws: ConfigFileError.self) { try load("mqtt: { url: \"http://broker\" }") }
        #expect(error?.description.contains("mqtt.url: MQTT URL 'http://broker' has scheme 'http'") == true)
    }
}

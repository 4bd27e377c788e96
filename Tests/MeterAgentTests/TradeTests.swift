import ArgumentParser
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import ModbusBridge
import OperatorKit
import ServiceLifecycle
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

@Suite("Trading: offer, request, auto-offer")
struct TradeTests {
    // MARK: flags

    @Test(
        "offer and request refuse bad flags with one line naming the flag",
        arguments: [
            (
                ["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "0"],
                "--energy-wh must be a whole number of watt-hours, at least 1, not '0'"
            ),
            (
                ["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh=-5"],
                "--energy-wh must be a whole number of watt-hours, at least 1, not '-5'"
            ),
            (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "1.5"], "not '1.5'"),
            (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "2kWh"], "not '2kWh'"),
            (["--gateway", "http://127.0.0.1:1", "--energy-wh", "10"], "Missing expected argument '--key <key>'"),
            (["--key", "k", "--energy-wh", "10"], "Missing expected argument '--gateway <gateway>'"),
            (["--key", "k", "--gateway", "http://127.0.0.1:1"], "Missing expected argument '--energy-wh <energy-wh>'"),
            (
                ["--key", "k", "--gateway", "ftp://127.0.0.1", "--energy-wh", "10"],
                "--gateway 'ftp://127.0.0.1' is not an http:// or https:// URL"
            ),
            (["--key", "k", "--gateway", "127.0.0.1:8080", "--energy-wh", "10"], "is not an http:// or https:// URL"),
            (["--key", "k", "--gateway", "http://", "--energy-wh", "10"], "is not an http:// or https:// URL"),
            (
                ["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "10", "--sequence", "0"],
                "--sequence must be at least 1"
            ),
        ]
    )
    func badFlags(arguments: [String], message: String) {
        for command in [OfferCommand.self, RequestCommand.self] as [any ParsableCommand.Type] {
            #expect(throws: (any Error).self) { _ = try command.parseAsRoot(arguments) }
            do {
                _ = try command.parseAsRoot(arguments)
            } catch {
                #expect(command.message(for: error).contains(message), "\(command): \(command.message(for: error))")
            }
        }
    }

    @Test("offer's --valid-for defaults to 15 minutes and must be between 1s and 7d; request has none")
    func validFor() throws {
        let base = ["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "10"]
        #expect(try OfferCommand.parse(base).validFor.duration == .seconds(900))
        #expect(try OfferCommand.parse(base + ["--valid-for", "1h"]).validFor.duration == .seconds(3600))
        do {
            _ = try OfferCommand.parse(base + ["--valid-for", "0s"])
            Issue.record("--valid-for 0s was accepted")
        } catch {
            #expect(OfferCommand.message(for: error).contains("--valid-for must be between 1s and 7d"))
        }
        do {
            _ = try OfferCommand.parse(base + ["--valid-for", "100000000d"])
            Issue.record("--valid-for 100000000d was accepted")
        } catch {
            #expect(OfferCommand.message(for: error).contains("--valid-for must be between 1s and 7d"))
        }
        #expect(throws: (any Error).self) { _ = try RequestCommand.parse(base + ["--valid-for", "1h"]) }
    }

    @Test("sequence numbers default to the Unix time in ms and always rise")
    func sequences() {
        let before = UInt64(TradeSequence.nowMilliseconds())
        let first = TradeSequence.next(after: nil)
        #expect(first >= before)
        #expect(
            TradeSequence.next(after: first + 1_000_000) == first + 1_000_001,
            "one above the last when the clock is behind it"
        )
    }

    @Test("run: --role sets the meter's role; the agent file takes role per meter; misuse is refused")
    func runRoles() throws {
        let flags = [
            "--device", "/dev/null", "--unit", "1", "--profile", "sdm120", "--key", "k",
            "--gateway", "http://127.0.0.1:1", "--data", "d",
        ]
        #expect(try RunCommand.parse(flags).agentConfig().buses[0].meters[0].role == .consumer)
        let producer = try RunCommand.parse(flags + ["--role", "producer", "--auto-offer", "--offer-interval", "30s"])
        #expect(try producer.agentConfig().buses[0].meters[0].role == .producer)
        #expect(producer.autoOffer && producer.offerInterval?.duration == .seconds(30))

        for (arguments, message) in [
            (flags + ["--offer-interval", "30s"], "--offer-interval goes with --auto-offer"),
            (flags + ["--auto-offer", "--offer-interval", "10ms"], "--offer-interval must be at least 1s"),
            (flags + ["--role", "seller"], "--role"),
            (["--config", "agent.yaml", "--role", "producer"], "leave out"),
        ] {
            do {
                _ = try RunCommand.parse(arguments)
                Issue.record("accepted \(arguments)")
            } catch {
                #expect(RunCommand.message(for: error).contains(message), "\(RunCommand.message(for: error))")
            }
        }

        let file = makeTempDir(prefix: "gl-agent-file")
        try """
        gateway: http://127.0.0.1:8080
        data: d
        buses:
          - device: /dev/ttyUSB0
            meters:
              - { unit: 1, profile: sdm630, key: house.key }
              - { unit: 2, profile: sdm120, key: pv.key, role: producer }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try AgentFile.load(path: file).buses[0].meters.map(\.role) == [.consumer, .producer])
        try """
        gateway: http://127.0.0.1:8080
        data: d
        buses:
          - { device: /dev/ttyUSB0, meters: [{ unit: 2, profile: sdm120, key: pv.key, role: seller }] }
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigFileError.self) { try AgentFile.load(path: file) }
        #expect(error?.description == "\(file): buses[0].meters[0].role: 'seller' is not producer or consumer")
    }

    @Test("--auto-offer needs a producer meter with an export register")
    func autoOfferNeedsProducer() throws {
        let command = try RunCommand.parse([
            "--device", "/dev/null", "--unit", "1", "--profile", "sdm120", "--key", "k",
            "--gateway", "http://127.0.0.1:1", "--data", "d", "--auto-offer",
        ])
        let profile = try testLibrary.profile(named: "sdm120")
        let reader = MeterReader(
            client: try RunningBus(meters: [meter("sdm120", unit: 1)]).client(),
            profile: profile,
            unit: 1
        )
        let consumer = PolledMeter(
            reader: reader,
            factory: ReadingFactory(profile: profile),
            identity: SigningIdentity()
        )
        let error = #expect(throws: OperatorError.self) { try command.offeringProducers([consumer]) }
        #expect(error?.description.contains("give --role producer") == true)
        let producer = PolledMeter(
            reader: reader,
            factory: ReadingFactory(profile: profile),
            identity: SigningIdentity(),
            role: .producer
        )
        #expect(try command.offeringProducers([consumer, producer]).map(\.id) == [producer.identity.id])
    }

    // MARK: offers and requests against the fake gateway

    @Test("an offer is signed by the meter, checked by the gateway, and reported with credit, cut and block")
    func offerInProcess() async throws {
        let pv = SigningIdentity()
        let offer = try Offer(producer: pv.id, sequence: 5, energyWh: 500, validFrom: 1_000, validUntil: 901_000)
        let signed = try SignedRecord.sign(.offer(offer), with: pv)
        let response = try await FakeGateway.serving { gateway, http in
            gateway.market.withLock {
                $0.enroll(pv, as: .producer)
                $0.creditLimitWh = 400
            }
            return try await TradeClient(http: http).offer(signed)
        }
        #expect(
            response
                == OfferResponse(
                    status: .accepted,
                    producer: pv.id.hex,
                    sequence: 5,
                    offeredWh: 500,
                    creditedWh: 400,
                    cutWh: 100,
                    availableWh: 400,
                    blockHeight: 7
                )
        )
        let report = try TradeReport.offer(response, json: false)
        #expect(report.exit == .success && report.error == nil)
        #expect(
            report.output == """
                offer 5 accepted
                  producer   \(pv.id.hex)
                  offered    500 Wh
                  credited   400 Wh (cut 100 Wh: more than the gateway has metered from this meter)
                  available  400 Wh
                  block      7
                """
        )
        let json = try #require(try TradeReport.offer(response, json: true).output)
        #expect(try JSONDecoder().decode(OfferResponse.self, from: Data(json.utf8)) == response)
        #expect(!json.contains("\n"), "one JSON object on one line")
    }

    @Test("the gateway's error bodies and silence become one line with the HTTP status and what to do")
    func tradeErrors() async throws {
        let pv = SigningIdentity()
        let signed = try SignedRecord.sign(
            .offer(Offer(producer: pv.id, sequence: 1, energyWh: 5, validFrom: 0, validUntil: 1)),
            with: pv
        )
        try await FakeGateway.serving { gateway, http in
            gateway.market.withLock { $0.mode = .errorBody }
            let error = await #expect(throws: TradeError.self) { try await TradeClient(http: http).offer(signed) }
            #expect(error == .unexpectedAnswer(status: 400, path: "v1/offers", detail: "the body is not JSON"))
            #expect(TradeReport.failed(try #require(error)).exit == .failure)
            #expect(error?.description.hasPrefix("gateway answered HTTP 400: the body is not JSON;") == true)

            // Unknown-meter: the decision is decoded from a 403 and says how to enroll.
            gateway.market.withLock { $0.mode = .normal }
            let rejected = try await TradeClient(http: http).offer(signed)
            #expect(rejected.status == .rejected && rejected.reason == .unknownMeter)
            let report = try TradeReport.offer(rejected, json: false)
            #expect(report.exit == .failure && report.output == nil)
            #expect(
                report.error?.contains("(unknown-meter)") == true
                    && report.error?.contains("edge-gateway enroll") == true
            )
        }
        #expect(TradeReport.failed(.unreachable(gateway: "http://x", error: "connection refused")).exit == .tryLater)
        #expect(TradeReport.failed(.unexpectedAnswer(status: 502, path: "v1/offers", detail: "")).exit == .tryLater)
    }

    @Test("a request is served by the producer with the lowest TNT, or reported unserved")
    func requestReports() throws {
        let served = DispatchResponse(
            status: .served,
            consumer: "c0",
            sequence: 9,
            requestedWh: 300,
            policy: "lowest-tnt",
            shares: [DispatchShareView(producer: "ab12", energyWh: 300, tntBefore: 4, tntAfter: 5)],
            blockHeight: 43
        )
        let report = try TradeReport.request(served, json: false)
        #expect(report.exit == .success)
        #expect(report.output == "request 9 served: 300 Wh in block 43\n  ab12  300 Wh  TNT 4 → 5")

        let unserved = DispatchResponse(
            status: .unserved,
            sequence: 10,
            requestedWh: 900,
            blockHeight: 43,
            reason: .insufficientEnergy,
            detail: "no producer has 900 Wh available"
        )
        let none = try TradeReport.request(unserved, json: false)
        #expect(none.exit == .unserved && none.error == nil)
        #expect(
            none.output
                == "request 10 for 900 Wh unserved in block 43 (insufficient-energy): no producer has 900 Wh available"
        )

        var duplicate = served
        duplicate.status = .duplicate
        #expect(try TradeReport.request(duplicate, json: false).exit == .success)
        #expect(
            try TradeReport.request(DispatchResponse(status: .retry, reason: .storage), json: false).exit == .tryLater
        )
        let wrongRole = try TradeReport.request(DispatchResponse(status: .rejected, reason: .wrongRole), json: true)
        #expect(wrongRole.exit == .failure && wrongRole.output?.contains(#""status":"rejected""#) == true)
        #expect(wrongRole.error?.contains("requests come from meters enrolled as consumers") == true)
    }
}

// MARK: the binary

extension TradeTests {
    /// Runs meter-agent without blocking the test's threads (the fake gateway shares them).
    static func runBinary(_ arguments: [String]) async throws -> CommandLineTests.Result {
        guard let binary = CommandLineTests.binary else { throw CommandLineTests.BinaryMissing() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gl-bin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out")
        let err = directory.appendingPathComponent("err")
        try Data().write(to: out)
        try Data().write(to: err)
        let process = try SpawnedProcess(binary.path, arguments, output: .file(out.path), errors: .file(err.path))
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let status = process.waitUntilExit()
        return CommandLineTests.Result(
            status: status,
            output: try String(contentsOf: out, encoding: .utf8),
            error: try String(contentsOf: err, encoding: .utf8)
        )
    }

    static func keyFile(_ identity: SigningIdentity) throws -> String {
        let path = makeTempDir(prefix: "gl-key")
        try KeyFile.writePrivateKey(identity, to: path)
        return path
    }

    @Test(
        "meter-agent offer and request: output, --json and exit status for served, unserved, rejected, busy, unreachable"
    )
    func binary() async throws {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }
        let url = "http://127.0.0.1:\(port)"
        let pv = SigningIdentity()
        let house = SigningIdentity()
        let stranger = SigningIdentity()
        gateway.market.withLock {
            $0.enroll(pv, as: .producer)
            $0.enroll(house, as: .consumer)
        }
        let pvKey = try Self.keyFile(pv)
        let houseKey = try Self.keyFile(house)
        let strangerKey = try Self.keyFile(stranger)

        let offer = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "500"])
        #expect(offer.status == 0, "\(offer.error)")
        #expect(offer.output.hasPrefix("offer 1"), "\(offer.output)")
        #expect(
            offer.output.contains("credited   500 Wh\n") && offer.output.contains("available  500 Wh"),
            "\(offer.output)"
        )

        let json = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "200", "--json"])
        #expect(json.status == 0, "\(json.error)")
        let answer = try JSONDecoder().decode(OfferResponse.self, from: Data(json.output.utf8))
        #expect(answer.status == .accepted && answer.availableWh == 700 && answer.producer == pv.id.hex)
        #expect(
            (answer.sequence ?? 0) > UInt64(TradeSequence.nowMilliseconds() - 600_000),
            "the default sequence is the time in ms"
        )

        let served = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "300"])
        #expect(served.status == 0, "\(served.error)")
        #expect(
            served.output.contains("served: 300 Wh in block 7")
                && served.output.contains("\(pv.id.hex)  300 Wh  TNT 0 → 1"),
            "\(served.output)"
        )

        let unserved = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "900"])
        #expect(unserved.status == 3, "\(unserved.error)")
        #expect(unserved.output.contains("unserved in block 7 (insufficient-energy)"), "\(unserved.output)")

        let stale = try await Self.runBinary([
            "request", "--key", houseKey, "--gateway", url, "--energy-wh", "1", "--sequence", "5",
        ])
        #expect(stale.status == 1)
        #expect(
            stale.error.contains("(stale-sequence)") && stale.error.contains("pass a higher --sequence"),
            "\(stale.error)"
        )

        let unknown = try await Self.runBinary([
            "offer", "--key", strangerKey, "--gateway", url, "--energy-wh", "5", "--json",
        ])
        #expect(unknown.status == 1)
        #expect(
            unknown.output.contains(#""reason":"unknown-meter""#),
            "--json still prints the answer: \(unknown.output)"
        )
        #expect(unknown.error.hasPrefix("Error: the gateway rejected the offer (unknown-meter)"), "\(unknown.error)")
        #expect(unknown.error.split(separator: "\n").count == 1)

        let wrongRole = try await Self.runBinary(["offer", "--key", houseKey, "--gateway", url, "--energy-wh", "5"])
        #expect(wrongRole.status == 1 && wrongRole.error.contains("(wrong-role)"), "\(wrongRole.error)")

        gateway.market.withLock { $0.mode = .busy }
        let busy = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "5"])
        #expect(busy.status == 4 && busy.error.contains("send it again later"), "\(busy.error)")

        gateway.market.withLock { $0.mode = .errorBody }
        let garbled = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "5"])
        #expect(
            garbled.status == 1 && garbled.error.contains("gateway answered HTTP 400: the body is not JSON"),
            "\(garbled.error)"
        )

        let unreachable = try await Self.runBinary([
            "offer", "--key", pvKey, "--gateway", "http://127.0.0.1:1", "--energy-wh", "5",
        ])
        #expect(unreachable.status == 4)
        #expect(unreachable.error.contains("cannot reach the gateway at http://127.0.0.1:1"), "\(unreachable.error)")

        let noKey = try await Self.runBinary([
            "offer", "--key", "/nonexistent/pv.key", "--gateway", url, "--energy-wh", "5",
        ])
        #expect(noKey.status == 1 && noKey.error.contains("cannot use --key: /nonexistent/pv.key"), "\(noKey.error)")
        #expect(noKey.error.contains("meter-agent keygen"))

        let badEnergy = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "0"])
        #expect(
            badEnergy.status == 64 && badEnergy.error.contains("--energy-wh must be a whole number"),
            "\(badEnergy.error)"
        )
        #expect(gateway.market.withLock { $0.submissions } == 8, "nothing is sent for a bad flag or key")
    }
}

// MARK: auto-offer

extension TradeTests {
    func ledgerAndOfferer(http: GatewayClient) -> (ExportLedger, AutoOfferer, SigningIdentity) {
        let pv = SigningIdentity()
        let ledger = ExportLedger(producers: [pv.id], logger: silentLogger)
        let offerer = AutoOfferer(
            producers: [pv],
            ledger: ledger,
            gateway: http,
            interval: .seconds(3600),
            logger: silentLogger
        )
        return (ledger, offerer, pv)
    }

    @Test("auto-offer offers only export deltas, and keeps a delta across a gateway failure until it is accepted")
    func autoOfferDeltas() async throws {
        try await FakeGateway.serving { gateway, http in
            let (ledger, offerer, pv) = ledgerAndOfferer(http: http)
            let id = pv.id.hex
            gateway.market.withLock { $0.enroll(pv, as: .producer) }

            #expect(await offerer.offer(for: pv) == .noReading)
            ledger.observe(meter: id, exportWh: 10_000, timestamp: 1)  // the first reading: the baseline
            #expect(await offerer.offer(for: pv) == .nothingNew)
            ledger.observe(meter: id, exportWh: 10_500, timestamp: 2)
            guard case .offered(let first) = await offerer.offer(for: pv) else {
                Issue.record("no offer")
                return
            }
            #expect(first.offeredWh == 500 && first.creditedWh == 500)
            #expect(await offerer.offer(for: pv) == .nothingNew, "the accepted export is not offered again")

            gateway.market.withLock { $0.mode = .busy }
            ledger.observe(meter: id, exportWh: 10_800, timestamp: 3)
            guard case .failed(let reason) = await offerer.offer(for: pv) else {
                Issue.record("offered while busy")
                return
            }
            #expect(reason.contains("retry") && reason.contains("storage"))
            ledger.observe(meter: id, exportWh: 11_000, timestamp: 4)
            let elsewhere = AutoOfferer(
                producers: [pv],
                ledger: ledger,
                gateway: GatewayClient(base: URL(string: "http://127.0.0.1:1")!, client: http.client),
                interval: .seconds(3600),
                logger: silentLogger
            )
            guard case .failed(let why) = await elsewhere.offer(for: pv) else {
                Issue.record("offered to nobody")
                return
            }
            #expect(why.contains("cannot reach the gateway"))
            #expect(ledger.meter(id)?.pending == 500, "nothing is lost while the gateway fails")

            gateway.market.withLock { $0.mode = .normal }
            guard case .offered(let second) = await offerer.offer(for: pv) else {
                Issue.record("no offer after the outage")
                return
            }
            #expect(second.offeredWh == 500, "the export during the outage is offered once the gateway is back")
            #expect(gateway.market.withLock { $0.acceptedOffers } == [500, 500])
            #expect(ledger.meter(id)?.pending == 0)

            // An offer the gateway recorded but whose answer was lost: the same bytes go
            // again (answered duplicate), never a second offer for the same export.
            ledger.observe(meter: id, exportWh: 11_300, timestamp: 5)
            guard case .failed = await elsewhere.offer(for: pv) else {
                Issue.record("offered to nobody")
                return
            }
            let unanswered = try #require(ledger.unansweredOffer(id))
            #expect(
                try await TradeClient(http: http, timeout: .seconds(5)).offer(unanswered.signed).status == .accepted
            )
            ledger.observe(meter: id, exportWh: 11_400, timestamp: 6)
            guard case .offered(let resent) = await offerer.offer(for: pv) else {
                Issue.record("not resent")
                return
            }
            #expect(resent.status == .duplicate && resent.sequence == unanswered.offer.sequence)
            #expect(gateway.market.withLock { $0.acceptedOffers } == [500, 500, 300], "recorded once")
            #expect(ledger.meter(id)?.pending == 100, "export after the lost answer is offered next")
        }
    }

    @Test(
        "auto-offer: a rejection keeps the export pending; a cut still moves the baseline; a counter reset restarts the count"
    )
    func autoOfferRejectionsAndResets() async throws {
        try await FakeGateway.serving { gateway, http in
            let (ledger, offerer, pv) = ledgerAndOfferer(http: http)
            let id = pv.id.hex
            ledger.observe(meter: id, exportWh: 100, timestamp: 10)
            ledger.observe(meter: id, exportWh: 400, timestamp: 20)
            guard case .failed(let reason) = await offerer.offer(for: pv) else {
                Issue.record("offered unenrolled")
                return
            }
            #expect(reason.contains("unknown-meter") && reason.contains("edge-gateway enroll"))

            gateway.market.withLock {
                $0.enroll(pv, as: .producer)
                $0.creditLimitWh = 250
            }
            ledger.observe(meter: id, exportWh: 350, timestamp: 5)  // an older reading sent again: ignored
            guard case .offered(let cut) = await offerer.offer(for: pv) else {
                Issue.record("no offer")
                return
            }
            #expect(cut.offeredWh == 300 && cut.creditedWh == 250 && cut.cutWh == 50)
            #expect(ledger.meter(id)?.pending == 0, "the gateway decided; the cut is not offered again")

            ledger.observe(meter: id, exportWh: 30, timestamp: 30)  // the meter was replaced
            #expect(await offerer.offer(for: pv) == .nothingNew)
            ledger.observe(meter: id, exportWh: 70, timestamp: 40)
            guard case .offered(let afterReset) = await offerer.offer(for: pv) else {
                Issue.record("no offer")
                return
            }
            #expect(afterReset.offeredWh == 40)
        }
    }

    @Test("the forwarder feeds auto-offer with the export of acknowledged producer readings only")
    func forwarderFeedsLedger() async throws {
        let sdm120 = try testLibrary.profile(named: "sdm120")
        let factory = ReadingFactory(profile: sdm120)
        let outbox = try Outbox(
            directory: makeTempDir(prefix: "gl-feed"),
            capacity: 100
        )
        let pv = SigningIdentity()
        let house = SigningIdentity()
        for (second, (identity, export)) in [(pv, 1.0), (house, 9.0), (pv, 1.25), (pv, 1.5)].enumerated() {
            let measurements = sdm120.measurands.filter { $0.name == "energy_export" }.map {
                ModbusBridge.Measurement(measurand: $0, raw: .float(export), value: export)
            }
            let snapshot = MeterSnapshot(
                profile: sdm120.name,
                unit: 1,
                takenAt: Date(timeIntervalSince1970: 1_782_043_200 + Double(second)),
                measurements: measurements,
                requests: 1,
                busTime: .zero
            )
            _ = try await outbox.append(meter: identity.id) { sequence in
                try SignedRecord.sign(
                    .reading(
                        factory.reading(from: snapshot, meter: identity.id, gateway: testGatewayID, sequence: sequence)
                    ),
                    with: identity
                )
            }
        }
        let ledger = ExportLedger(producers: [pv.id], logger: silentLogger)
        try await FakeGateway.serving { gateway, http in
            var forwarder = Forwarder(
                outbox: outbox,
                gateway: http.base,
                gatewayID: testGatewayID,
                httpClient: http.client,
                identities: [:],
                logger: silentLogger
            )
            forwarder.exports = ledger
            gateway.mode.withLock { $0 = .answering([3: .unknownMeter]) }  // pv's third reading must wait
            _ = try await forwarder.sendOnce(limit: 10)
        }
        // pv's readings 1 and 2 were acknowledged (1.0 and 1.25 kWh); its third must wait.
        let entry = try #require(ledger.meter(pv.id.hex))
        #expect(entry.baseline == 1_000 && entry.latest == 1_250 && entry.pending == 250)
        #expect(ledger.meter(house.id.hex) == nil, "consumers are not followed")
    }

    @Test("auto-offer runs as a service and offers what is pending once more at graceful shutdown")
    func autoOfferShutdown() async throws {
        try await FakeGateway.serving { gateway, http in
            let (ledger, offerer, pv) = ledgerAndOfferer(http: http)
            gateway.market.withLock { $0.enroll(pv, as: .producer) }
            ledger.observe(meter: pv.id.hex, exportWh: 1_000, timestamp: 1)
            ledger.observe(meter: pv.id.hex, exportWh: 1_250, timestamp: 2)
            // A service that ends at once and asks the group to shut down gracefully, as SIGTERM does.
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: offerer),
                        .init(service: EndsAtOnce(), successTerminationBehavior: .gracefullyShutdownGroup),
                    ],
                    logger: silentLogger
                )
            )
            try await group.run()
            #expect(gateway.market.withLock { $0.acceptedOffers } == [250])
            #expect(ledger.meter(pv.id.hex)?.pending == 0)
        }
    }
}

private struct EndsAtOnce: Service {
    func run() async throws {}
}

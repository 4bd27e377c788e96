import ArgumentParser
import Foundation
import LedgerLite
import Testing
@testable import MeterAgent

@Suite("Trading: offer, request, auto-offer")
struct TradeTests {
    // MARK: flags

    @Test("offer and request refuse bad flags with one line naming the flag", arguments: [
        (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "0"], "--energy-wh must be a whole number of watt-hours, at least 1, not '0'"),
        (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh=-5"], "--energy-wh must be a whole number of watt-hours, at least 1, not '-5'"),
        (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "1.5"], "not '1.5'"),
        (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "2kWh"], "not '2kWh'"),
        (["--gateway", "http://127.0.0.1:1", "--energy-wh", "10"], "Missing expected argument '--key <key>'"),
        (["--key", "k", "--energy-wh", "10"], "Missing expected argument '--gateway <gateway>'"),
        (["--key", "k", "--gateway", "http://127.0.0.1:1"], "Missing expected argument '--energy-wh <energy-wh>'"),
        (["--key", "k", "--gateway", "ftp://127.0.0.1", "--energy-wh", "10"], "--gateway 'ftp://127.0.0.1' is not an http:// or https:// URL"),
        (["--key", "k", "--gateway", "127.0.0.1:8080", "--energy-wh", "10"], "is not an http:// or https:// URL"),
        (["--key", "k", "--gateway", "http://", "--energy-wh", "10"], "is not an http:// or https:// URL"),
        (["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "10", "--sequence", "0"], "--sequence must be at least 1"),
    ])
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

    @Test("offer's --valid-for defaults to 15 minutes and must be at least 1s; request has none")
    func validFor() throws {
        let base = ["--key", "k", "--gateway", "http://127.0.0.1:1", "--energy-wh", "10"]
        #expect(try OfferCommand.parse(base).validFor.duration == .seconds(900))
        #expect(try OfferCommand.parse(base + ["--valid-for", "1h"]).validFor.duration == .seconds(3600))
        do {
            _ = try OfferCommand.parse(base + ["--valid-for", "0s"])
            Issue.record("--valid-for 0s was accepted")
        } catch {
            #expect(OfferCommand.message(for: error).contains("--valid-for must be at least 1s"))
        }
        #expect(throws: (any Error).self) { _ = try RequestCommand.parse(base + ["--valid-for", "1h"]) }
    }

    @Test("sequence numbers default to the Unix time in ms and always rise")
    func sequences() {
        let before = UInt64(TradeSequence.nowMilliseconds())
        let first = TradeSequence.next(after: nil)
        #expect(first >= before)
        #expect(TradeSequence.next(after: first + 1_000_000) == first + 1_000_001, "one above the last when the clock is behind it")
    }

    // MARK: offers and requests against the fake gateway

    @Test("an offer is signed by the meter, checked by the gateway, and reported with credit, cut and block")
    func offerInProcess() async throws {
        let pv = SigningIdentity()
        let offer = try Offer(producer: pv.id, sequence: 5, energyWh: 500, validFrom: 1_000, validUntil: 901_000)
        let signed = try SignedRecord.sign(.offer(offer), with: pv)
        let response = try await FakeGateway.serving { gateway, http in
            gateway.market.withLock { $0.enroll(pv, as: .producer); $0.creditLimitWh = 400 }
            return try await TradeClient(http: http).offer(signed)
        }
        #expect(response == OfferResponse(status: .accepted, producer: pv.id.hex, sequence: 5, offeredWh: 500, creditedWh: 400,
                                          cutWh: 100, availableWh: 400, blockHeight: 7))
        let report = try TradeReport.offer(response, json: false)
        #expect(report.exit == .success && report.error == nil)
        #expect(report.output == """
            offer 5 accepted
              producer   \(pv.id.hex)
              offered    500 Wh
              credited   400 Wh (cut 100 Wh: more than the gateway has metered from this meter)
              available  400 Wh
              block      7
            """)
        let json = try #require(try TradeReport.offer(response, json: true).output)
        #expect(try JSONDecoder().decode(OfferResponse.self, from: Data(json.utf8)) == response)
        #expect(!json.contains("\n"), "one JSON object on one line")
    }

    @Test("the gateway's error bodies and silence become one line with the HTTP status and what to do")
    func tradeErrors() async throws {
        let pv = SigningIdentity()
        let signed = try SignedRecord.sign(.offer(Offer(producer: pv.id, sequence: 1, energyWh: 5, validFrom: 0, validUntil: 1)), with: pv)
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
            #expect(report.error?.contains("(unknown-meter)") == true && report.error?.contains("edge-gateway enroll") == true)
        }
        #expect(TradeReport.failed(.unreachable(gateway: "http://x", error: "connection refused")).exit == .tryLater)
        #expect(TradeReport.failed(.unexpectedAnswer(status: 502, path: "v1/offers", detail: "")).exit == .tryLater)
    }

    @Test("a request is served by the producer with the lowest TNT, or reported unserved")
    func requestReports() throws {
        let served = DispatchResponse(status: .served, consumer: "c0", sequence: 9, requestedWh: 300, policy: "lowest-tnt",
                                      shares: [DispatchShareView(producer: "ab12", energyWh: 300, tntBefore: 4, tntAfter: 5)],
                                      blockHeight: 43)
        let report = try TradeReport.request(served, json: false)
        #expect(report.exit == .success)
        #expect(report.output == "request 9 served: 300 Wh in block 43\n  ab12  300 Wh  TNT 4 → 5")

        let unserved = DispatchResponse(status: .unserved, sequence: 10, requestedWh: 900, blockHeight: 43,
                                        reason: .insufficientEnergy, detail: "no producer has 900 Wh available")
        let none = try TradeReport.request(unserved, json: false)
        #expect(none.exit == .unserved && none.error == nil)
        #expect(none.output == "request 10 for 900 Wh unserved in block 43 (insufficient-energy): no producer has 900 Wh available")

        var duplicate = served
        duplicate.status = .duplicate
        #expect(try TradeReport.request(duplicate, json: false).exit == .success)
        #expect(try TradeReport.request(DispatchResponse(status: .retry, reason: .storage), json: false).exit == .tryLater)
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
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        try Data().write(to: out)
        try Data().write(to: err)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return CommandLineTests.Result(status: status, output: try String(contentsOf: out, encoding: .utf8),
                                       error: try String(contentsOf: err, encoding: .utf8))
    }

    static func keyFile(_ identity: SigningIdentity) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gl-key-\(UUID().uuidString)").path
        try KeyFile.writePrivateKey(identity, to: path)
        return path
    }

    @Test("meter-agent offer and request: output, --json and exit status for served, unserved, rejected, busy, unreachable")
    func binary() async throws {
        let gateway = FakeGateway()
        let port = try await gateway.start()
        defer { gateway.stop() }
        let url = "http://127.0.0.1:\(port)"
        let pv = SigningIdentity(), house = SigningIdentity(), stranger = SigningIdentity()
        gateway.market.withLock { $0.enroll(pv, as: .producer); $0.enroll(house, as: .consumer) }
        let pvKey = try Self.keyFile(pv), houseKey = try Self.keyFile(house), strangerKey = try Self.keyFile(stranger)

        let offer = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "500"])
        #expect(offer.status == 0, "\(offer.error)")
        #expect(offer.output.hasPrefix("offer 1"), "\(offer.output)")
        #expect(offer.output.contains("credited   500 Wh\n") && offer.output.contains("available  500 Wh"), "\(offer.output)")

        let json = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "200", "--json"])
        #expect(json.status == 0, "\(json.error)")
        let answer = try JSONDecoder().decode(OfferResponse.self, from: Data(json.output.utf8))
        #expect(answer.status == .accepted && answer.availableWh == 700 && answer.producer == pv.id.hex)
        #expect((answer.sequence ?? 0) > UInt64(TradeSequence.nowMilliseconds() - 600_000), "the default sequence is the time in ms")

        let served = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "300"])
        #expect(served.status == 0, "\(served.error)")
        #expect(served.output.contains("served: 300 Wh in block 7") && served.output.contains("\(pv.id.hex)  300 Wh  TNT 0 → 1"),
                "\(served.output)")

        let unserved = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "900"])
        #expect(unserved.status == 3, "\(unserved.error)")
        #expect(unserved.output.contains("unserved in block 7 (insufficient-energy)"), "\(unserved.output)")

        let stale = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "1", "--sequence", "5"])
        #expect(stale.status == 1)
        #expect(stale.error.contains("(stale-sequence)") && stale.error.contains("pass a higher --sequence"), "\(stale.error)")

        let unknown = try await Self.runBinary(["offer", "--key", strangerKey, "--gateway", url, "--energy-wh", "5", "--json"])
        #expect(unknown.status == 1)
        #expect(unknown.output.contains(#""reason":"unknown-meter""#), "--json still prints the answer: \(unknown.output)")
        #expect(unknown.error.hasPrefix("Error: the gateway rejected the offer (unknown-meter)"), "\(unknown.error)")
        #expect(unknown.error.split(separator: "\n").count == 1)

        let wrongRole = try await Self.runBinary(["offer", "--key", houseKey, "--gateway", url, "--energy-wh", "5"])
        #expect(wrongRole.status == 1 && wrongRole.error.contains("(wrong-role)"), "\(wrongRole.error)")

        gateway.market.withLock { $0.mode = .busy }
        let busy = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", url, "--energy-wh", "5"])
        #expect(busy.status == 4 && busy.error.contains("send it again later"), "\(busy.error)")

        gateway.market.withLock { $0.mode = .errorBody }
        let garbled = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "5"])
        #expect(garbled.status == 1 && garbled.error.contains("gateway answered HTTP 400: the body is not JSON"), "\(garbled.error)")

        let unreachable = try await Self.runBinary(["offer", "--key", pvKey, "--gateway", "http://127.0.0.1:1", "--energy-wh", "5"])
        #expect(unreachable.status == 4)
        #expect(unreachable.error.contains("cannot reach the gateway at http://127.0.0.1:1"), "\(unreachable.error)")

        let noKey = try await Self.runBinary(["offer", "--key", "/nonexistent/pv.key", "--gateway", url, "--energy-wh", "5"])
        #expect(noKey.status == 1 && noKey.error.contains("cannot use --key: /nonexistent/pv.key"), "\(noKey.error)")
        #expect(noKey.error.contains("meter-agent keygen"))

        let badEnergy = try await Self.runBinary(["request", "--key", houseKey, "--gateway", url, "--energy-wh", "0"])
        #expect(badEnergy.status == 64 && badEnergy.error.contains("--energy-wh must be a whole number"), "\(badEnergy.error)")
        #expect(gateway.market.withLock { $0.submissions } == 8, "nothing is sent for a bad flag or key")
    }
}

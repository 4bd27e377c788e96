import Foundation
import GridAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OperatorKit
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite

/// Issue 16, point 4: `edge-gateway export csv|json` and `GET /v1/export`, per meter and
/// UTC-aligned period, from the signed counters and the dispatches, traceable to entries.
@Suite("Settlement export")
struct SettlementExportTests {
    static let producer = TestKeys.key(0x71)
    static let consumer = TestKeys.key(0x72)
    /// 2026-01-01T00:00:00.000Z, where `TradeChain` starts.
    static let t0: Int64 = 1_767_225_600_000
    static let quarter: Int64 = 900_000

    /// Three quarters of an hour on a chain, one sealed block in each:
    /// - 00:00–00:15: both meters' first readings; the consumer is served 100 Wh by the producer.
    /// - 00:15–00:30: second readings (consumer +10 Wh import, producer +10 import, +600 export); 200 Wh served.
    /// - 00:30–00:45: third readings; the producer's export counter falls (1 600 → 1 500 Wh).
    /// After the last seal the consumer's fourth reading is pending in the journal only.
    struct Fixture {
        var chain: TradeChain
        var consumerReadings: [UInt64] = []
        var producerReadings: [UInt64] = []
        var dispatches: [UInt64] = []

        init() throws {
            chain = try TradeChain()
            try chain.enroll(producer, .producer)
            try chain.enroll(consumer, .consumer)
            try chain.policy(.lowestTNT, toleranceWh: 10_000)
            try read(consumer: true)
            try read(producer: 1000)
            try chain.offer(producer, 5000)
            dispatches.append(try chain.trade(consumer, 100).index)
            try chain.seal()

            chain.jump(ms: quarter)
            try read(consumer: true)
            try read(producer: 1600)
            dispatches.append(try chain.trade(consumer, 200).index)
            try chain.seal()

            chain.jump(ms: quarter)
            try read(consumer: true)
            try read(producer: 1500)
            try chain.seal()
            try read(consumer: true)
            try chain.journalTheRest()
        }

        private mutating func read(consumer: Bool) throws {
            consumerReadings.append(chain.nextIndex)
            try chain.reading(SettlementExportTests.consumer)
        }

        private mutating func read(producer exportWh: Int64) throws {
            producerReadings.append(chain.nextIndex)
            try chain.reading(SettlementExportTests.producer, exportWh: exportWh)
        }
    }

    static var window: String { "from=\(t0)&until=\(t0 + 3 * quarter)" }

    func get(
        _ h: Harness,
        _ uri: String,
        restricted: Bool = false,
        headers: HTTPFields = [:]
    ) async throws -> (
        Int, String
    ) {
        let app = Application(router: h.gateway.router(restrictHouseholdData: restricted), logger: h.logs.logger)
        return try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: headers) { response in
                (Int(response.status.code), String(buffer: response.body))
            }
        }
    }

    @Test func rowsComeFromTheSignedCountersAndTheDispatchesOfSealedBlocks() async throws {
        let f = try Fixture()
        let h = try await f.chain.open()
        defer { h.close() }
        let view = try await h.get("/v1/export?\(Self.window)", as: SettlementView.self)
        #expect(view.periodSeconds == 900 && view.fromTime == "2026-01-01T00:00:00.000Z")
        #expect(view.sealed.height == 2 && view.sealed.entries == f.consumerReadings[3])
        let (c, p) = (Self.consumer.id.hex, Self.producer.id.hex)
        // Period by period, meters by id within one.
        let order = view.rows.map { "\($0.periodStart) \($0.meter)" }
        #expect(view.rows.count == 6 && order == order.sorted())
        func row(_ period: Int, _ meter: String) throws -> SettlementRowView {
            try #require(
                view.rows.first { $0.periodStart == Self.t0 + Int64(period) * Self.quarter && $0.meter == meter }
            )
        }

        // First quarter: no reading before it, so each meter starts from its first one.
        let c0 = try row(0, c)
        #expect(c0.importWh == 0 && c0.importReadings?.startEntry == f.consumerReadings[0])
        #expect(c0.exportWh == nil && c0.exportReadings == nil && c0.roles == ["consumer"])
        #expect(c0.receivedWh == 100 && c0.deliveredWh == 0)
        #expect(
            c0.trades == [
                SettlementTradeView(entry: f.dispatches[0], direction: "received", counterparty: p, energyWh: 100)
            ]
        )
        let p0 = try row(0, p)
        #expect(p0.deliveredWh == 100 && p0.receivedWh == 0 && p0.roles == ["producer"])
        #expect(
            p0.trades == [
                SettlementTradeView(entry: f.dispatches[0], direction: "delivered", counterparty: c, energyWh: 100)
            ]
        )

        // Second quarter: differences between the readings at or before each boundary.
        let c1 = try row(1, c)
        #expect(c1.importWh == 10 && c1.receivedWh == 200 && c1.complete && c1.notes.isEmpty)
        #expect(
            c1.importReadings?.startEntry == f.consumerReadings[0]
                && c1.importReadings?.endEntry == f.consumerReadings[1]
        )
        #expect(
            c1.importReadings?.startWh == 10 && c1.importReadings?.endWh == 20 && c1.importReadings?.endSequence == 2
        )
        let p1 = try row(1, p)
        #expect(p1.importWh == 10 && p1.exportWh == 600 && p1.deliveredWh == 200)
        #expect(
            p1.exportReadings?.startEntry == f.producerReadings[0]
                && p1.exportReadings?.endEntry == f.producerReadings[1]
        )

        // Third quarter: the export counter fell; it reaches beyond the last sealed block;
        // the consumer's pending fourth reading is not counted.
        let c2 = try row(2, c)
        #expect(c2.importWh == 10 && c2.importReadings?.endEntry == f.consumerReadings[2])
        #expect(!c2.complete && c2.notes == ["the period reaches beyond the last sealed block"])
        let p2 = try row(2, p)
        #expect(p2.exportWh == nil && p2.importWh == 10)
        #expect(p2.exportReadings?.startWh == 1600 && p2.exportReadings?.endWh == 1500)
        #expect(p2.notes.first?.contains("export counter fell from 1600 Wh") == true)

        // Consecutive periods add up: the consumer's import over the window is its counter's rise.
        let total = view.rows.filter { $0.meter == c }.compactMap(\.importWh).reduce(0, +)
        #expect(total == 30 - 10)
    }

    @Test func csvOverHTTPAndTheCommandWriteTheSameRows() async throws {
        let f = try Fixture()
        let h = try await f.chain.open()
        defer { h.close() }
        let (status, csv) = try await get(h, "/v1/export?\(Self.window)&format=csv&period=15m")
        #expect(status == 200)
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines.first == SettlementDocument.csvColumns.joined(separator: ","))
        #expect(lines.count == 1 + 6 + 1 && lines.last == "")
        let p1 = try #require(
            lines.first {
                $0.hasPrefix("2026-01-01T00:15:00.000Z,") && $0.contains(Self.producer.id.hex + ",producer,")
            }
        )
        #expect(p1.contains(",10,600,"))
        #expect(p1.contains("\(f.dispatches[1]):delivered:\(Self.consumer.id.hex):200"))
        #expect(p1.hasSuffix(",true,"))
        // The notes are the row's last field.
        let p2 = try #require(lines.first { $0.hasPrefix("2026-01-01T00:30:00.000Z,") && $0.contains(",producer,") })
        #expect(p2.contains(",false,the export counter fell from 1600 Wh"))
        // RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled.
        #expect(SettlementDocument.csvField("a, \"b\"") == "\"a, \"\"b\"\"\"")
        #expect(SettlementDocument.csvField("plain") == "plain")

        let directory = makeTempDir(prefix: "export")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let out = directory + "/settlement.csv"
        let command = try ExportCSVCommand.parse([
            "--data", h.dir.path, "--from", "2026-01-01T00:00:00.000Z", "--until", "\(Self.t0 + 3 * Self.quarter)",
            "--out", out,
        ])
        try command.run()
        #expect(try String(contentsOfFile: out, encoding: .utf8) == csv)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // An existing file is not overwritten.
        #expect(throws: OperatorError.self) { try command.run() }

        let json = directory + "/settlement.json"
        try ExportJSONCommand.parse([
            "--data", h.dir.path, "--from", "2026-01-01", "--until", "2026-01-01T00:45:00.000Z", "--out", json,
            "--meter", Self.consumer.id.hex,
        ]).run()
        let view = try JSONDecoder().decode(SettlementView.self, from: Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(view.rows.count == 3 && view.rows.allSatisfy { $0.meter == Self.consumer.id.hex })
    }

    @Test func badWindowsGetOneClearLine() async throws {
        let f = try Fixture()
        let h = try await f.chain.open()
        defer { h.close() }
        func refusal(_ arguments: [String]) throws -> String {
            do {
                try ExportCSVCommand.parse(["--data", h.dir.path] + arguments).run()
                return "no error"
            } catch let error as OperatorError {
                return error.description
            }
        }
        let empty = try refusal(["--from", "2026-02-01", "--until", "2026-02-02"])
        #expect(
            empty.hasPrefix(
                "no sealed reading or dispatch between 2026-02-01T00:00:00.000Z and 2026-02-02T00:00:00.000Z"
            )
        )
        #expect(!empty.contains("\n"))
        let unaligned = try refusal(["--from", "2026-01-01T00:07:00.000Z", "--until", "2026-01-01T01:00:00.000Z"])
        #expect(unaligned.contains("use 2026-01-01T00:00:00.000Z or 2026-01-01T00:15:00.000Z"))
        #expect(
            try refusal(["--from", "2026-01-01", "--until", "2026-01-02", "--period", "7m"]).contains("divide a day")
        )
        #expect(try refusal(["--from", "2026-01-02", "--until", "2026-01-01"]).contains("the window is empty"))
        #expect(
            try refusal([
                "--from", "2026-01-01", "--until", "2026-01-02", "--meter", String(repeating: "ab", count: 16),
            ]).contains("never enrolled")
        )

        #expect(
            try await get(h, "/v1/export?from=\(Self.t0 + 31 * Self.quarter)&until=\(Self.t0 + 32 * Self.quarter)").0
                == 404
        )
        #expect(try await get(h, "/v1/export?from=\(Self.t0)").0 == 400)
        #expect(try await get(h, "/v1/export?\(Self.window)&format=xml").1.contains("format is csv or json"))
        #expect(try await get(h, "/v1/export?\(Self.window)&period=1x").1.contains("period is a duration"))
        #expect(try await get(h, "/v1/export?\(Self.window)&meter=zz").1.contains("32 hex digits"))
        // A year of minutes for two meters is more than one request may ask for.
        let (status, body) = try await get(
            h,
            "/v1/export?from=\(Self.t0)&until=\(Self.t0 + 365 * 86_400_000)&period=1m"
        )
        #expect(status == 400 && body.contains("200000"))
        let big = try await get(h, "/v1/export?from=\(Self.t0)&until=\(Self.t0 + 30 * 86_400_000)&period=1m")
        #expect(big.0 == 400 && big.1.contains("more than 50000 rows"))
    }

    @Test func beyondLoopbackTheExportIsForTheOperatorOrTheMeterItself() async throws {
        let f = try Fixture()
        let h = try await f.chain.open()
        defer { h.close() }
        let all = "/v1/export?\(Self.window)"
        #expect(try await get(h, all, restricted: true).0 == 401)
        #expect(
            try await get(h, all, restricted: true, headers: [.authorization: "Bearer \(h.gateway.token)"]).0 == 200
        )
        func stamp(_ signer: SigningIdentity) throws -> HTTPFields {
            let value = try RequestSigning.headerValue(
                signer: signer,
                at: h.clock.now,
                endpoint: GatewayRoutes.export,
                body: []
            )
            return [HTTPField.Name(RequestSigning.header)!: value]
        }
        let own = all + "&meter=\(Self.consumer.id.hex)"
        let (status, body) = try await get(h, own, restricted: true, headers: try stamp(Self.consumer))
        #expect(status == 200, "\(body)")
        #expect(try await get(h, own, restricted: true, headers: try stamp(Self.producer)).0 == 401)
        #expect(try await get(h, all, restricted: true, headers: try stamp(Self.consumer)).0 == 401)
    }

    @Test func windowsAreCheckedBeforeAnyArithmetic() throws {
        #expect(throws: SettlementError.outOfRange(-900_000)) {
            try SettlementWindow(from: -900_000, until: 0)
        }
        #expect(throws: SettlementError.outOfRange(Int64.max - Int64.max % 900_000)) {
            try SettlementWindow(from: 0, until: Int64.max - Int64.max % 900_000)
        }
        #expect(throws: SettlementError.badPeriod(milliseconds: 0)) {
            try SettlementWindow(from: 0, until: 1, periodMs: 0)
        }
        #expect(throws: SettlementError.badPeriod(milliseconds: 90_500)) {
            try SettlementWindow(from: 0, until: 1, periodMs: 90_500)
        }
        let day = try SettlementWindow(from: Self.t0, until: Self.t0 + 86_400_000, periodMs: 3_600_000)
        #expect(day.periodCount == 24 && day.boundary(24) == day.until)
    }
}

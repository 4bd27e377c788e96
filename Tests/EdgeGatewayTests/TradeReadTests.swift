import ArgumentParser
import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite

/// The read side of energy trading: GET /v1/tnt, /v1/dispatches, /v1/fairness and
/// `inspect tnt|dispatches|fairness`, on the worked example (`WorkedExample`).
@Suite("Trading: TNT table, dispatches, fairness")
struct TradeReadTests {
    typealias W = WorkedExample

    static func expectedProducers() -> [ProducerView] {
        func p(
            _ key: SigningIdentity,
            _ active: Bool,
            tnt: UInt64,
            available: UInt64,
            served: UInt64,
            credited: UInt64,
            exported: UInt64
        ) -> ProducerView {
            ProducerView(
                ProducerRow(
                    meter: key.id,
                    status: MeterStatus(
                        role: .producer,
                        active: active,
                        availableWh: available,
                        tnt: tnt,
                        servedWh: served,
                        exportedWh: exported,
                        creditedWh: credited
                    )
                )
            )
        }
        // (TNT, id) order: spare 0 (revoked), water 2, solar 3, wind 4.
        return [
            p(W.spare, false, tnt: 0, available: 0, served: 0, credited: 0, exported: 0),
            p(W.water, true, tnt: 2, available: 400, served: 700, credited: 1100, exported: 1500),
            p(W.solar, true, tnt: 3, available: 900, served: 300, credited: 1200, exported: 0),
            p(W.wind, true, tnt: 4, available: 4200, served: 2000, credited: 6200, exported: 0),
        ]
    }

    @Test func tntTableIncludesPendingEntriesInRuleOrder() async throws {
        let w = try W()
        let h = try await w.chain.open()
        defer { h.close() }
        let view = try await h.get("/v1/tnt", as: TNTView.self)
        #expect(view.policy == "lowest-tnt")
        #expect(view.offerToleranceWh == 10_000)
        #expect(view.producers == Self.expectedProducers())
        #expect(view.openRequests == [OpenRequestView(consumer: W.house.id.hex, sequence: 8, energyWh: 50)])
        // The same numbers as the writer's own table.
        #expect(view.producers == (await h.gateway.writer.tntState()).producerTable().map(ProducerView.init))
    }

    @Test func dispatchesArePagedSealedThenPendingWithTheirRequests() async throws {
        let w = try W()
        #expect(w.dispatches == [11, 12, 14, 17, 19, 23, 26, 28, 30, 32])
        let h = try await w.chain.open()
        defer { h.close() }

        var all: [DispatchEntryView] = []
        var pages: [[UInt64]] = []
        var from: UInt64? = 0
        while let start = from {
            let page = try await h.get("/v1/dispatches?from=\(start)&limit=4", as: DispatchListView.self)
            pages.append(page.dispatches.map(\.index))
            all += page.dispatches
            from = page.next
        }
        #expect(pages == [[11, 12, 14, 17], [19, 23, 26, 28], [30, 32]])
        for d in all {
            #expect(d.requestIndex == w.requestOf[d.index], "dispatch \(d.index)")
            #expect(d.sealed == (d.index < 29))
            #expect(d.height == (d.index < 24 ? 0 : d.index < 29 ? 1 : nil))
            #expect(d.policy == "lowest-tnt")
        }
        // The first two requests were both made before either was dispatched.
        let first = try #require(all.first)
        #expect(first.requestIndex == 9 && all[1].requestIndex == 10)
        #expect(first.consumer == W.house.id.hex && first.requestSequence == 1 && first.requestedWh == 100)
        #expect(first.outcome == "served" && first.deliveredWh == 100)
        #expect(first.shares == [DispatchShareView(producer: W.solar.id.hex, energyWh: 100, tntBefore: 0, tntAfter: 1)])
        // The worked example: 600 Wh to water (TNT 1 → 2), the next 600 Wh to wind (2 → 3).
        let toWater = all[6]
        let toWind = all[7]
        #expect(
            toWater.requestedWh == 600
                && toWater.shares == [
                    DispatchShareView(producer: W.water.id.hex, energyWh: 600, tntBefore: 1, tntAfter: 2)
                ]
        )
        #expect(toWind.consumer == W.shop.id.hex)
        #expect(
            toWind.requestedWh == 600
                && toWind.shares == [
                    DispatchShareView(producer: W.wind.id.hex, energyWh: 600, tntBefore: 2, tntAfter: 3)
                ]
        )
        #expect(toWater.requestTimestamp != nil && toWater.requestTime != nil)
        // Pending: served by wind alone, and unserved.
        #expect(
            all[8].shares == [DispatchShareView(producer: W.wind.id.hex, energyWh: 1200, tntBefore: 3, tntAfter: 4)]
        )
        #expect(all[8].requestedWh == 1200)
        #expect(
            all[9].outcome == "unserved" && all[9].shares.isEmpty && all[9].deliveredWh == 0
                && all[9].requestedWh == 10_000
        )

        // One consumer's.
        let shop = try await h.get("/v1/dispatches?consumer=\(W.shop.id.hex)", as: DispatchListView.self)
        #expect(shop.dispatches.map(\.index) == [28, 30, 32])
        #expect(shop.next == nil)
        let shopLater = try await h.get(
            "/v1/dispatches?consumer=\(W.shop.id.hex)&from=29&limit=1",
            as: DispatchListView.self
        )
        #expect(shopLater.dispatches.map(\.index) == [30])
        #expect(shopLater.next == 31)

        for bad in ["from=-1", "from=x", "limit=0", "consumer=abc"] {
            _ = try await h.get("/v1/dispatches?\(bad)", as: ErrorView.self, status: .badRequest)
        }

        // Sealing moves the pending ones into a block; the list is the same.
        await h.gateway.writer.sealNow()
        let sealed = try await h.get("/v1/dispatches?from=26", as: DispatchListView.self)
        #expect(sealed.dispatches.map(\.index) == [26, 28, 30, 32])
        #expect(sealed.dispatches.allSatisfy { $0.sealed })
        #expect(sealed.dispatches.map(\.requestIndex) == [25, 27, 29, 31])
        #expect(sealed.dispatches.map(\.height) == [1, 1, 2, 2])
    }

    /// Hand-checked: energy served in the window x, n producers.
    /// Jain (Σx)²/(n·Σx²), Gini Σ(2i−n−1)·x₍ᵢ₎/(n·Σx) over sorted x, Hoover Σ|x−mean|/(2·Σx).
    @Test func fairnessOverWindowsByBlockTimestamps() async throws {
        let w = try W()
        let h = try await w.chain.open()
        defer { h.close() }

        // From block 1 on, pending included: water 600 Wh (1 dispatch), wind 600 + 1200 Wh
        // (2), solar 0; spare is revoked, so not measured. x = 600, 1800, 0, Σx = 2400.
        // Jain 2400² / (3 · (600² + 1800²)) = 5 760 000 / 10 800 000 = 8/15;
        // Gini (−2·0 + 0·600 + 2·1800) / (3·2400) = 0.5; Hoover (200 + 1000 + 800) / 4800 = 5/12.
        let open = try await h.get("/v1/fairness?from=\(w.block1Start)", as: FairnessView.self)
        #expect(open.from == w.block1Start && open.until == nil)
        #expect(open.dispatches == 4 && open.served == 3 && open.unserved == 1)
        #expect(open.producerCount == 3)
        #expect(open.dispatchSpread == 2)
        #expect(open.currentTNTSpread == 2)  // water 2, solar 3, wind 4
        #expect(abs(open.energyJain - 8.0 / 15) < 1e-12)
        #expect(abs(open.energyGini - 0.5) < 1e-12)
        #expect(abs(open.energyHoover - 5.0 / 12) < 1e-12)
        #expect(Set(open.producers.map(\.producer)) == Set([W.water, W.wind, W.solar].map(\.id.hex)))
        let wind = try #require(open.producers.first { $0.producer == W.wind.id.hex })
        #expect(wind == FairnessRowView(producer: W.wind.id.hex, counted: true, dispatches: 2, energyWh: 1800, tnt: 4))

        // Block 1 only (ISO 8601 bounds): x = 600, 600, 0. Jain 1 440 000 / 2 160 000 = 2/3;
        // Gini 2·600 / (3·1200) = 1/3; Hoover (200 + 200 + 400) / 2400 = 1/3.
        let iso = { (ms: Int64) in isoTime(ms).addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        let block1 = try await h.get(
            "/v1/fairness?from=\(iso(w.block1Start))&until=\(iso(w.afterBlock1))",
            as: FairnessView.self
        )
        #expect(block1.dispatches == 2 && block1.unserved == 0)
        #expect(block1.dispatchSpread == 1)
        #expect(abs(block1.energyJain - 2.0 / 3) < 1e-12)
        #expect(abs(block1.energyGini - 1.0 / 3) < 1e-12)
        #expect(abs(block1.energyHoover - 1.0 / 3) < 1e-12)

        // Block 0 only: spare was still active at the window's end, so it counts with 0.
        // x = 100 (water), 200 (wind), 300 (solar), 0 (spare); counts 1, 2, 3, 0.
        // Jain 600² / (4 · 140 000) = 9/14; Gini (−3·0 − 100 + 200 + 3·300) / (4·600) = 5/12;
        // Hoover (50 + 50 + 150 + 150) / 1200 = 1/3.
        let block0 = try await h.get("/v1/fairness?until=\(w.block1Start)", as: FairnessView.self)
        #expect(block0.dispatches == 6)
        #expect(block0.producerCount == 4)
        #expect(block0.dispatchSpread == 3)
        #expect(abs(block0.energyJain - 9.0 / 14) < 1e-12)
        #expect(abs(block0.energyGini - 5.0 / 12) < 1e-12)
        #expect(abs(block0.energyHoover - 1.0 / 3) < 1e-12)
        #expect(
            block0.producers.first { $0.producer == W.spare.id.hex }
                == FairnessRowView(producer: W.spare.id.hex, counted: true, dispatches: 0, energyWh: 0, tnt: 0)
        )
        #expect(block0.currentTNTSpread == 2)  // now: spare is revoked

        // A window after everything: nothing dispatched, all measures at their "equal" value.
        let later = try await h.get("/v1/fairness?from=\(w.chain.time + 3_600_000)", as: FairnessView.self)
        #expect(later.dispatches == 0 && later.dispatchSpread == 0 && later.energyJain == 1 && later.energyGini == 0)

        _ = try await h.get("/v1/fairness?from=yesterday", as: ErrorView.self, status: .badRequest)
        _ = try await h.get("/v1/fairness?from=2000&until=1000", as: ErrorView.self, status: .badRequest)
    }

    /// Issue 13, point 5: a fairness query scans a bounded window, never the whole chain.
    @Test func fairnessWindowsHaveADefaultAndAMaximumLength() async throws {
        let w = try W()
        let h = try await w.chain.open()
        defer { h.close() }
        let day: Int64 = 86_400_000
        let now = h.clock.now
        let unbounded = try await h.get("/v1/fairness", as: FairnessView.self)
        #expect(unbounded.from == now - day && unbounded.until == nil)
        #expect(unbounded.dispatches == 10)  // the whole example is within the last day
        let before = try await h.get("/v1/fairness?until=\(w.block1Start)", as: FairnessView.self)
        #expect(before.from == w.block1Start - day && before.until == w.block1Start)
        let month = try await h.get("/v1/fairness?from=\(now - 31 * day)", as: FairnessView.self)
        #expect(month.from == now - 31 * day)
        for query in [
            "from=\(now - 31 * day - 1)", "from=0&until=\(32 * day)", "until=\(Int64.max)&from=\(Int64.min)",
            "from=\(Int64.min)",
        ] {
            let refused = try await h.get("/v1/fairness?\(query)", as: ErrorView.self, status: .badRequest)
            #expect(refused.error.contains("at most 31 days"), "\(query)")
        }
    }

    @Test func inspectTradeViewsBesideARunningGateway() async throws {
        let w = try W()
        let h = try await w.chain.open()
        defer { h.close() }
        let chain = try ReadOnlyChain(w.chain.dir)
        func report(_ args: [String]) throws -> String {
            try InspectCommand.parse(["--data", w.chain.dir.path] + args).tradeReport(chain)
        }
        func decode<T: Decodable>(_ args: [String], as: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(try report(["--json"] + args).utf8))
        }

        // tnt: the store replayed plus the journal gives the writer's table.
        let tnt = try decode(["tnt"], as: TNTView.self)
        #expect(tnt.producers == Self.expectedProducers())
        #expect(tnt.policy == "lowest-tnt" && tnt.offerToleranceWh == 10_000)
        #expect(tnt.openRequests.count == 1)
        let tntText = try report(["tnt"])
        let lines = tntText.split(separator: "\n").map(String.init)
        #expect(
            lines[0] == "TNT table after 2 blocks and 5 pending entries: policy lowest-tnt, offer tolerance 10000 Wh"
        )
        #expect(
            lines[2]
                == "producer                          active    TNT  available Wh   served Wh  credited Wh   export Wh"
        )
        #expect(lines[3] == "\(W.spare.id.hex)  no          0             0           0            0           0")
        #expect(lines[4] == "\(W.water.id.hex)  yes         2           400         700         1100        1500")
        #expect(lines[6] == "\(W.wind.id.hex)  yes         4          4200        2000         6200           0")
        #expect(lines.last == "requests without a dispatch yet: \(W.house.id.hex) #8 50 Wh")

        // dispatches: the newest --limit, or from an index.
        #expect(try decode(["dispatches"], as: DispatchListView.self).dispatches.map(\.index) == w.dispatches)
        #expect(
            try decode(["dispatches", "--limit", "3"], as: DispatchListView.self).dispatches.map(\.index) == [
                28, 30, 32,
            ]
        )
        let paged = try decode(["dispatches", "--from", "20", "--limit", "2"], as: DispatchListView.self)
        #expect(paged.dispatches.map(\.index) == [23, 26] && paged.next == 27)
        #expect(
            try decode(["dispatches", "--consumer", W.shop.id.hex, "--limit", "2"], as: DispatchListView.self)
                .dispatches.map(\.index) == [30, 32]
        )
        let http = try await h.get("/v1/dispatches", as: DispatchListView.self)
        #expect(
            try decode(["dispatches", "--from", "0", "--limit", "100"], as: DispatchListView.self).dispatches.map(
                \.requestIndex
            ) == http.dispatches.map(\.requestIndex)
        )
        let dispatchText = try report(["dispatches", "--from", "26", "--limit", "3"]).split(separator: "\n").map(
            String.init
        )
        #expect(
            dispatchText[0]
                == " index  block    consumer                           seq  requested Wh  policy      outcome"
        )
        #expect(
            dispatchText[1]
                == "    26  1        \(W.house.id.hex)     7           600  lowest-tnt  served by \(W.water.id.hex) 600 Wh (TNT 1→2)"
        )
        #expect(
            dispatchText[3]
                == "    30  pending  \(W.shop.id.hex)     2          1200  lowest-tnt  served by \(W.wind.id.hex) 1200 Wh (TNT 3→4)"
        )
        #expect(dispatchText[4] == "more: --from 31")
        #expect(
            try report(["dispatches", "--from", "32"]).contains(
                "    32  pending  \(W.shop.id.hex)     3         10000  lowest-tnt  unserved"
            )
        )

        // fairness: the same report as the HTTP API.
        let fair = try decode(["fairness", "--from", "\(w.block1Start)"], as: FairnessView.self)
        let fairHTTP = try await h.get("/v1/fairness?from=\(w.block1Start)", as: FairnessView.self)
        #expect(try Self.json(fair) == Self.json(fairHTTP))
        let block1 = try decode(
            ["fairness", "--from", isoTime(w.block1Start), "--until", isoTime(w.afterBlock1)],
            as: FairnessView.self
        )
        #expect(block1.dispatches == 2 && abs(block1.energyJain - 2.0 / 3) < 1e-12)
        let fairText = try report(["fairness", "--from", "\(w.block1Start)"])
        #expect(
            fairText.contains(
                "4 dispatches in the window (3 served, 1 unserved); measured over the 3 producers active at its end"
            )
        )
        #expect(fairText.contains("\(W.wind.id.hex)           2        1800         4"))
        #expect(fairText.contains("dispatch spread   2"))
        #expect(fairText.contains("TNT spread now    2"))
        #expect(fairText.contains("Jain's index      0.5333  (Σx)² / (n·Σx²)"))
        #expect(fairText.contains("Gini coefficient  0.5000"))
        #expect(fairText.contains("Robin Hood index  0.4167"))
        #expect(fairText.contains("last timestamp of their block"))
        #expect(
            try report(["fairness", "--until", "\(w.block1Start)"]).contains("(not active at the window's end") == false
        )
        #expect(
            try report(["fairness", "--from", "\(w.block1Start)", "--until", "\(w.afterBlock1)"]).contains(
                "until " + isoTime(w.afterBlock1)
            )
        )

        // The commands print what tradeReport returns.
        for args in [["tnt"], ["dispatches"], ["fairness"]] {
            try await InspectCommand.parse(["--data", w.chain.dir.path] + args).run()
            try await InspectCommand.parse(["--data", w.chain.dir.path, "--json"] + args).run()
        }
    }

    @Test func inspectTNTWithoutAServerAgreesWithTheGateway() async throws {
        let w = try W()
        let chain = try ReadOnlyChain(w.chain.dir)
        func offlineTNT() throws -> String {
            try Self.json(
                try JSONDecoder().decode(
                    TNTView.self,
                    from: Data(
                        try InspectCommand.parse(["--data", w.chain.dir.path, "--json", "tnt"]).tradeReport(chain).utf8
                    )
                )
            )
        }
        let offline = try offlineTNT()
        let h = try await w.chain.open()
        defer { h.close() }
        let online = try Self.json(try await h.get("/v1/tnt", as: TNTView.self))
        #expect(offline == online)
        // After a seal the journal is empty and the replay covers the store alone.
        await h.gateway.writer.sealNow()
        let sealed = try offlineTNT()
        #expect(sealed == online)
        #expect(
            try InspectCommand.parse(["--data", w.chain.dir.path, "tnt"]).tradeReport(chain).hasPrefix(
                "TNT table after 3 blocks and 0 pending entries"
            )
        )
    }

    @Test func inspectTradeOptionsAreChecked() throws {
        let dir = try TradeChain().dir.path
        for args in [
            ["fairness", "--from", "soon"], ["fairness", "--until", "x"],
            ["fairness", "--from", "2000", "--until", "1000"],
            ["dispatches", "--from", "2026-01-01T00:00:00Z"], ["dispatches", "--consumer", "abc"],
            ["tnt", "--consumer", String(repeating: "a", count: 32)],
            ["dispatches", "--until", "1000"], ["dispatches", "--limit", "0"], ["tnt", "extra"],
        ] {
            #expect(throws: (any Error).self, "\(args)") { try InspectCommand.parse(["--data", dir] + args) }
        }
        #expect(throws: Never.self) {
            try InspectCommand.parse([
                "--data", dir, "fairness", "--from", "2026-01-01T00:00:00Z", "--until", "1767225600001",
            ])
        }
    }

    /// Split policy: a request sealed in one block, its split dispatch pending.
    @Test func splitDispatchShowsEveryShare() async throws {
        var c = try TradeChain()
        let (a, b, consumer) = (TestKeys.key(0x71), TestKeys.key(0x72), TestKeys.key(0x43))
        try c.enroll(a, .producer)
        try c.enroll(b, .producer)
        try c.enroll(consumer, .consumer)
        try c.policy(.splitTNT, toleranceWh: 5000)
        try c.offer(a, 300)
        try c.offer(b, 500)
        let (ref, requestIndex) = try c.request(consumer, 600)
        try c.reading(consumer)  // the request is not right before its dispatch
        try c.seal()
        let (d, index) = try c.dispatch(ref)
        try c.journalTheRest()
        let h = try await c.open()
        defer { h.close() }

        let (firstP, firstWh, secondP, secondWh) =
            a.id < b.id ? (a, UInt64(300), b, UInt64(300)) : (b, UInt64(500), a, UInt64(100))
        #expect(
            d.outcome
                == .split([
                    DispatchShare(producer: firstP.id, energyWh: firstWh, tntBefore: 0),
                    DispatchShare(producer: secondP.id, energyWh: secondWh, tntBefore: 0),
                ])
        )
        let list = try await h.get("/v1/dispatches", as: DispatchListView.self)
        let view = try #require(list.dispatches.first)
        #expect(list.dispatches.count == 1)
        #expect(view.index == index && view.height == nil && !view.sealed)
        #expect(view.requestIndex == requestIndex && view.requestedWh == 600)
        #expect(view.policy == "split-tnt" && view.outcome == "split" && view.deliveredWh == 600)
        #expect(
            view.shares == [
                DispatchShareView(producer: firstP.id.hex, energyWh: firstWh, tntBefore: 0, tntAfter: 1),
                DispatchShareView(producer: secondP.id.hex, energyWh: secondWh, tntBefore: 0, tntAfter: 1),
            ]
        )
        let tnt = try await h.get("/v1/tnt", as: TNTView.self)
        #expect(tnt.policy == "split-tnt" && tnt.offerToleranceWh == 5000)
        #expect(
            tnt.producers.map(\.tnt) == [1, 1] && tnt.producers.map(\.meter) == [a, b].map(\.id).sorted().map(\.hex)
        )

        let text = try InspectCommand.parse(["--data", c.dir.path, "dispatches"]).tradeReport(try ReadOnlyChain(c.dir))
        #expect(
            text.contains(
                "split-tnt   split: \(firstP.id.hex) \(firstWh) Wh (TNT 0→1), \(secondP.id.hex) \(secondWh) Wh (TNT 0→1)"
            )
        )
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

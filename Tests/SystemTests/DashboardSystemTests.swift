import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import TestSupport
import Testing

/// The gateway's live dashboard in a real headless Chromium (Debian's `chromium`, installed
/// by `./scripts/setup --test`), against the real `edge-gateway serve`: the page loads, shows
/// the enrolled meters, and shows a block sealed after it connected, without a reload.
@Suite("The live dashboard in Chromium", .serialized)
struct DashboardSystemTests {
    typealias World = EndToEndTests.World

    @Test("the page shows the enrolled meters, then a newly sealed block without a reload")
    func thePageFollowsTheChainLive() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        let house = try await world.keygen("house")
        let shop = try await world.keygen("shop")
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        let (gateway, base) = try await TLSSystemTests.serve(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "127.0.0.1:0", "--seal-interval", "300ms"],
            urlFile: world.gateway + "/gateway.url",
            log: world.path("gateway.log")
        )
        defer { gateway.terminate() }
        for name in ["house", "shop"] {
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", world.gateway, "--meter-key", world.path("\(name).key.pub")]
            )
            #expect(enrolled.status == 0, "\(enrolled.output)")
        }

        let browser = try HeadlessChromium()
        defer { browser.close() }
        try await browser.open(base + "/")
        try await browser.waitUntil(
            "both enrolled meters on the page",
            "document.querySelectorAll('#meters tr[data-meter]').length === 2"
        )
        for meter in [house, shop] {
            let shown = try await browser.evaluate(
                "document.querySelector('#meters tr[data-meter=\"\(meter)\"]') !== null"
            )
            #expect(shown as? Bool == true, "meter \(meter)")
        }
        // Set on this page only: still there after the block arrives, so the page was not reloaded.
        _ = try await browser.evaluate("window.loadedOnce = true")

        // The page's stream is open before the block is sealed.
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await waitUntil("the page's event stream at the gateway") {
                let (_, metrics) = try await EndToEndTests.get(base + "/metrics", client: http)
                return String(decoding: metrics, as: UTF8.self).contains("gateway_event_streams 1.0")
            }
            let (_, health) = try await EndToEndTests.get(base + "/healthz", client: http)
            let before = try JSONDecoder().decode(Tip.self, from: health).height

            let client = GatewayClient(base: URL(string: base)!)
            let gatewayID = try #require(KeyID(hex: try await client.gatewayID(timeout: .seconds(10))))
            let key = try KeyFile.readPrivateKey(from: world.path("house.key"))
            let reading = try Reading(
                meter: key.id,
                gateway: gatewayID,
                sequence: 1,
                timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                values: [MeasuredValue(.energyImportWh, 1200), MeasuredValue(.activePowerW, 640)]
            )
            let answer = try await client.postReadings(
                IngestBatch(signed: [try SignedRecord.sign(.reading(reading), with: key)]),
                timeout: .seconds(10)
            )
            #expect(answer.results.map(\.status) == [.accepted])
            var sealed: Int64?
            try await waitUntil("the reading sealed into a new block") {
                let (_, health) = try await EndToEndTests.get(base + "/healthz", client: http)
                sealed = try JSONDecoder().decode(Tip.self, from: health).height
                return sealed.map { $0 > (before ?? -1) } ?? false
            }
            let height = try #require(sealed)
            try await browser.waitUntil(
                "block \(height) on the page",
                "document.querySelector('#blocks tr[data-height=\"\(height)\"]') !== null"
            )
            #expect(try await browser.evaluate("window.loadedOnce === true") as? Bool == true)
            // The block's reading updated the house's row (loopback: household data is shown).
            try await browser.waitUntil(
                "the house's power on the page",
                "document.querySelector('#meters tr[data-meter=\"\(house)\"]').textContent.includes('640')"
            )
            if let path = ProcessInfo.processInfo.environment["GRIDLEDGER_DASHBOARD_SCREENSHOT"] {
                try await browser.screenshot().write(to: URL(fileURLWithPath: path))
            }
        } catch {
            try await http.shutdown()
            throw Failure("\(error); chromium: \(browser.log.suffix(2000))")
        }
        try await http.shutdown()
    }

    @Test("beyond loopback the page shows readings only once the operator's token is given")
    func householdDataNeedsTheOperatorsToken() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        let house = try await world.keygen("house")
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        let (gateway, published) = try await TLSSystemTests.serve(
            "edge-gateway",
            [
                "serve", "--data", world.gateway, "--listen", "0.0.0.0:0", "--allow-plain-http",
                "--seal-interval", "300ms",
            ],
            urlFile: world.gateway + "/gateway.url",
            log: world.path("gateway.log")
        )
        defer { gateway.terminate() }
        let port = try #require(published.split(separator: ":").last)
        let base = "http://127.0.0.1:\(port)"
        let enrolled = try await runBinary(
            "edge-gateway",
            ["enroll", "--data", world.gateway, "--meter-key", world.path("house.key.pub")]
        )
        #expect(enrolled.status == 0, "\(enrolled.output)")
        let client = GatewayClient(base: URL(string: base)!)
        let gatewayID = try #require(KeyID(hex: try await client.gatewayID(timeout: .seconds(10))))
        let key = try KeyFile.readPrivateKey(from: world.path("house.key"))
        let reading = try Reading(
            meter: key.id,
            gateway: gatewayID,
            sequence: 1,
            timestamp: Int64(Date().timeIntervalSince1970 * 1000),
            values: [MeasuredValue(.energyImportWh, 1200), MeasuredValue(.activePowerW, 640)]
        )
        let answer = try await client.postReadings(
            IngestBatch(signed: [try SignedRecord.sign(.reading(reading), with: key)]),
            timeout: .seconds(10)
        )
        #expect(answer.results.map(\.status) == [.accepted])

        let browser = try HeadlessChromium()
        defer { browser.close() }
        let row = "document.querySelector('#meters tr[data-meter=\"\(house)\"]')"
        do {
            try await browser.open(base + "/")
            try await browser.waitUntil(
                "the page told that household data needs the token",
                "\(row) !== null && !document.querySelector('#household-note').hidden"
            )
            // The block holding the reading came on the stream (its kinds are only in block events), without it.
            try await browser.waitUntil(
                "the reading's block from the event stream",
                "[...document.querySelectorAll('#blocks tbody td')].some((cell) => cell.textContent === '1 reading')"
            )
            #expect(try await browser.evaluate("\(row).textContent.includes('640')") as? Bool == false)

            let token = try String(contentsOfFile: world.gateway + "/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await browser.evaluate(
                "document.querySelector('#token').value = '\(token)'; document.querySelector('#token-form').requestSubmit(); true"
            )
            try await browser.waitUntil(
                "the house's power on the page once the token is given",
                "\(row).textContent.includes('640') && document.querySelector('#household-note').hidden"
            )
        } catch {
            throw Failure("\(error); chromium: \(browser.log.suffix(2000))")
        }
    }

    /// What the test reads of `/healthz`.
    struct Tip: Decodable {
        let height: Int64?
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import HummingbirdTesting
import LedgerLite
import OperatorKit
import TestSupport
import Testing

@testable import GatewayCore

/// The dashboard's event stream (`GET /v1/events`) through the real server on loopback, read
/// with a raw socket as a browser reads it: the hello, each block as it is stored, heartbeats,
/// the cap on open streams, and household data only for the operator beyond loopback.
@Suite("The dashboard's event stream", .timeLimit(.minutes(2)))
struct EventStreamTests {
    static func request(_ headers: String = "") -> String {
        "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\(headers)\r\n"
    }

    /// Waits until `connection` has received `text`.
    static func expect(_ connection: RawConnection, toReceive text: String) async throws {
        try await waitUntil("'\(text)' on the stream") {
            connection.poll()
            return connection.text.contains(text) || connection.closed
        }
        #expect(connection.text.contains(text), "\(connection.text)")
    }

    /// The block events received so far, decoded.
    static func blocks(_ connection: RawConnection) throws -> [BlockEventView] {
        try connection.chunkedBody.components(separatedBy: "\n\n").compactMap { event -> BlockEventView? in
            let lines = event.split(separator: "\n")
            guard lines.contains("event: block"), let data = lines.first(where: { $0.hasPrefix("data: ") }) else {
                return nil
            }
            return try JSONDecoder().decode(BlockEventView.self, from: Data(data.dropFirst(6).utf8))
        }
    }

    /// The uplink events received so far, decoded.
    static func uplinkEvents(_ connection: RawConnection) -> [UplinkView] {
        connection.chunkedBody.components(separatedBy: "\n\n").compactMap { event -> UplinkView? in
            let lines = event.split(separator: "\n")
            guard lines.contains("event: uplink"), let data = lines.first(where: { $0.hasPrefix("data: ") }) else {
                return nil
            }
            return try? JSONDecoder().decode(UplinkView.self, from: Data(data.dropFirst(6).utf8))
        }
    }

    @Test func aStreamSaysHelloThenSendsEachBlockAsItIsStoredWithItsReadings() async throws {
        try await ConnectionLimitTests.withServer(ServerLimits()) { port, h in
            let meter = TestKeys.meter
            try await h.enroll(meter)
            try await waitUntil("block 0 stored") { await h.gateway.uplinkView().sealedHeight == 0 }

            let stream = try RawConnection(port: port)
            stream.send(Self.request())
            try await Self.expect(stream, toReceive: "id: 0\n")
            #expect(stream.text.hasPrefix("HTTP/1.1 200"))
            #expect(stream.text.lowercased().contains("content-type: text/event-stream"))
            #expect(
                stream.chunkedBody.contains("event: hello\ndata: {\"heartbeatSeconds\":15,\"householdData\":true}")
            )

            // A block sealed while the stream is open arrives on it, with the meter's reading.
            #expect(try await h.post([h.reading(meter, 1, importWh: 42)]).map(\.summary) == ["accepted"])
            await h.gateway.writer.sealNow()
            try await Self.expect(stream, toReceive: "id: 1\n")
            let block = try #require(try Self.blocks(stream).first { $0.header.height == 1 })
            #expect(block.entryTypes == ["reading": 1])
            #expect(block.readings?.map(\.reading.meter) == [meter.id.hex])
            #expect(block.readings?.first?.reading.values["energy_import_wh"] == 42)
            #expect(block.anomalies?.isEmpty == true)
        }
    }

    @Test func aReconnectingClientGetsTheBlocksAfterItsLastEventID() async throws {
        try await ConnectionLimitTests.withServer(ServerLimits()) { port, h in
            let meter = TestKeys.meter
            try await h.enroll(meter)
            for sequence in 1...2 as ClosedRange<UInt64> {
                _ = try await h.post([h.reading(meter, sequence)])
                await h.gateway.writer.sealNow()
            }
            try await waitUntil("block 2 stored") { await h.gateway.uplinkView().sealedHeight == 2 }

            let stream = try RawConnection(port: port)
            stream.send(Self.request("Last-Event-ID: 0\r\n"))
            try await Self.expect(stream, toReceive: "id: 2\n")
            #expect(try Self.blocks(stream).map(\.header.height) == [1, 2])

            let malformed = try RawConnection(port: port)
            malformed.send(Self.request("Last-Event-ID: yesterday\r\n"))
            try await Self.expect(malformed, toReceive: "is not a block height")
            #expect(malformed.text.hasPrefix("HTTP/1.1 400"))
        }
    }

    @Test func anIdleStreamGetsHeartbeatsAndOutlivesTheIdleTimeout() async throws {
        let limits = ServerLimits(
            idleTimeout: .seconds(1),
            eventStreams: EventStreamLimits(heartbeat: .milliseconds(200))
        )
        try await ConnectionLimitTests.withServer(limits) { port, h in
            let stream = try RawConnection(port: port)
            stream.send(Self.request())
            try await Self.expect(stream, toReceive: ": heartbeat\n\n")
            // Three idle timeouts later the stream is open and still delivers blocks.
            try await Task.sleep(for: .seconds(3))
            stream.poll()
            #expect(!stream.closed)
            try await h.enroll(TestKeys.meter)
            try await Self.expect(stream, toReceive: "id: 0\n")
        }
    }

    @Test func beyondTheCapAStreamIsRefusedWithRetryAfterUntilOneCloses() async throws {
        let limits = ServerLimits(eventStreams: EventStreamLimits(maxStreams: 1, heartbeat: .milliseconds(100)))
        try await ConnectionLimitTests.withServer(limits) { port, h in
            let first = try RawConnection(port: port)
            first.send(Self.request())
            try await Self.expect(first, toReceive: "event: hello")
            #expect(h.gateway.metrics.exposition().contains("gateway_event_streams 1.0"))

            let second = try RawConnection(port: port)
            second.send(Self.request())
            try await Self.expect(second, toReceive: "--max-event-streams")
            #expect(second.text.hasPrefix("HTTP/1.1 503"))
            #expect(second.text.lowercased().contains("retry-after: 10"))

            // The first client goes away: its place is given back, and a new stream is served.
            first.reset()
            try await waitUntil("the first stream's place given back") {
                h.gateway.metrics.exposition().contains("gateway_event_streams 0.0")
            }
            let third = try RawConnection(port: port)
            third.send(Self.request())
            try await Self.expect(third, toReceive: "event: hello")
        }
    }

    @Test func eachCheckpointTheUplinkStoresIsAnUplinkEvent() async throws {
        let superNode = UplinkTests.SigningCheck(root: EscalationAPITests.root)
        try await Application(
            router: superNode.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0))
        )
        .test(.live) { client in
            let h = try await EscalationAPITests.harness(url: "http://127.0.0.1:\(try #require(client.port))")
            defer { h.close() }
            superNode.gatewayKey.withLock { $0 = try? h.dir.loadKey().publicIdentity }
            let uplink = try #require(h.gateway.uplink)
            uplink.serverBound(url: "http://127.0.0.1:8080")
            let dashboard = Application(
                router: h.gateway.router(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0))
            )
            try await dashboard.test(.live) { dashboardClient in
                let stream = try RawConnection(port: try #require(dashboardClient.port))
                stream.send(Self.request())
                try await Self.expect(stream, toReceive: "event: hello")
                try await h.enroll(SigningIdentity())
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await uplink.run() }
                    // Every block checkpointed, as an uplink event says.
                    do {
                        try await waitUntil("an uplink event with every block checkpointed") {
                            stream.poll()
                            return Self.uplinkEvents(stream).contains {
                                $0.lastCheckpointedHeight != nil && $0.unacknowledgedBlocks == 0
                            }
                        }
                    } catch {
                        Issue.record("\(error): \(stream.chunkedBody)")
                    }
                    group.cancelAll()
                }
                #expect(Self.uplinkEvents(stream).allSatisfy { $0.configured && $0.superNode != nil })
            }
        }
    }

    @Test func aClientThatAcceptsNoEventStreamIsRefused() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        try await h.app().test(.router) { client in
            try await client.execute(uri: "/v1/events", method: .get, headers: [.accept: "application/json"]) {
                response in
                #expect(response.status == .notAcceptable)
                #expect(String(buffer: response.body).contains("event-stream only"))
            }
        }
    }

    @Test func theDashboardPageIsServedFromTheBinaryWithNothingFromElsewhere() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        try await h.app().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                // The SVG namespace is a name, not a resource: nothing is fetched from it.
                let page = String(buffer: response.body).replacingOccurrences(
                    of: "http://www.w3.org/2000/svg",
                    with: ""
                )
                #expect(page.contains("<meta name=\"viewport\""))
                #expect(page.contains("/v1/events"))
                // No external resource: every URL the page names is this server's.
                #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"))
                #expect(!page.contains("<link") && !page.contains("src="))
            }
        }
    }
}

/// Household data in the stream on a gateway that listens beyond loopback.
@Suite("The event stream beyond loopback", .timeLimit(.minutes(2)))
struct EventStreamHouseholdTests {
    /// `h`'s router with household data restricted, served live on a loopback port.
    static func withRestrictedServer(_ body: @escaping @Sendable (Int, Harness) async throws -> Void) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let app = Application(
            router: h.gateway.router(restrictHouseholdData: true),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: h.logs.logger
        )
        try await app.test(.live) { client in
            try await body(try #require(client.port), h)
        }
    }

    @Test func withoutTheTokenTheStreamCarriesNoReadingsOrAnomalies() async throws {
        try await Self.withRestrictedServer { port, h in
            let meter = TestKeys.meter
            try await h.enroll(meter)
            _ = try await h.post([h.reading(meter, 1)])
            await h.gateway.writer.sealNow()

            let stranger = try RawConnection(port: port)
            stranger.send(EventStreamTests.request())
            try await EventStreamTests.expect(stranger, toReceive: "id: 1\n")
            #expect(stranger.text.contains("\"householdData\":false"))
            let seen = try #require(try EventStreamTests.blocks(stranger).first)
            #expect(seen.entryTypes["reading"] == 1)
            #expect(seen.readings == nil && seen.anomalies == nil)
            #expect(!stranger.text.contains(meter.id.hex))

            let operator_ = try RawConnection(port: port)
            operator_.send(EventStreamTests.request("Authorization: Bearer \(h.gateway.token)\r\n"))
            try await EventStreamTests.expect(operator_, toReceive: "id: 1\n")
            #expect(operator_.text.contains("\"householdData\":true"))
            #expect(try EventStreamTests.blocks(operator_).first?.readings?.first?.reading.meter == meter.id.hex)

            let wrong = try RawConnection(port: port)
            wrong.send(EventStreamTests.request("Authorization: Bearer not-the-token\r\n"))
            try await EventStreamTests.expect(wrong, toReceive: "wrong admin token")
            #expect(wrong.text.hasPrefix("HTTP/1.1 401"))
        }
    }
}

import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNodeCore

/// The super node's dashboard: its page, and its event stream (`GET /v1/events`) read with a
/// raw socket through the real server on loopback, as a browser reads it.
@Suite("Super node: the dashboard's event stream", .timeLimit(.minutes(2)))
struct SuperNodeEventStreamTests {
    let gateway = TestKeys.key(0x99)

    /// `h`'s router served live on a loopback port, with `limits`.
    static func withServer(
        _ h: NodeHarness,
        limits: EventStreamLimits = EventStreamLimits(),
        _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        let app = Application(
            router: h.node.router(eventStreams: limits),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: quietLogger
        )
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    static let request = "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"

    static func expect(_ connection: RawConnection, toReceive text: String) async throws {
        try await waitUntil("'\(text)' on the stream") {
            connection.poll()
            return connection.text.contains(text) || connection.closed
        }
        #expect(connection.text.contains(text), "\(connection.text)")
    }

    @Test func anAuthenticatedPushIsSentToTheStreamAndAnUnsignedOneIsNot() async throws {
        let h = try await NodeHarness.make()
        let cert = try await h.certify(gateway, name: "feeder-7")
        let chain = try ChainMaker.standard(gateway: gateway)
        try await Self.withServer(h) { port in
            let stream = try RawConnection(port: port)
            stream.send(Self.request)
            try await Self.expect(stream, toReceive: "event: hello\ndata: {\"heartbeatSeconds\":15}")
            #expect(stream.text.lowercased().contains("content-type: text/event-stream"))

            let unsigned = try await h.push(
                rawCertificate: Data(cert.bytes).base64EncodedString(),
                blocks: [],
                signing: .unsigned
            )
            #expect(unsigned.status == 401)
            #expect(try await h.push(cert, chain.blocks).status == 200)
            try await Self.expect(stream, toReceive: "event: push")
            let events = stream.chunkedBody.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: push") }
            #expect(events.count == 1)
            let data = try #require(events.first?.split(separator: "\n").first { $0.hasPrefix("data: ") })
            let push = try JSONDecoder().decode(PushEventView.self, from: Data(data.dropFirst(6).utf8))
            #expect(push.gateway == gateway.id.hex)
            #expect(push.answer.checkpoints.map(\.height) == [0, 1, 2, 3])
            #expect(push.answer.rejected == nil)
        }
    }

    @Test func beyondTheCapAStreamIsRefusedWithRetryAfter() async throws {
        let h = try await NodeHarness.make()
        try await Self.withServer(h, limits: EventStreamLimits(maxStreams: 1)) { port in
            let first = try RawConnection(port: port)
            first.send(Self.request)
            try await Self.expect(first, toReceive: "event: hello")
            let second = try RawConnection(port: port)
            second.send(Self.request)
            try await Self.expect(second, toReceive: "too-many-streams")
            #expect(second.text.hasPrefix("HTTP/1.1 503"))
            #expect(second.text.lowercased().contains("retry-after: 10"))
        }
    }

    @Test func thePageIsServedFromTheBinary() async throws {
        let h = try await NodeHarness.make()
        try await h.app().test(.router) { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                // The SVG namespace is a name, not a resource: nothing is fetched from it.
                let page = String(buffer: response.body).replacingOccurrences(
                    of: "http://www.w3.org/2000/svg",
                    with: ""
                )
                #expect(page.contains("/v1/gateways") && page.contains("/v1/events"))
                #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("src="))
            }
        }
    }
}

extension EscalationTests {
    @Test func anAnsweredEscalationIsSentToTheStreamAndARefusedOneIsNot() async throws {
        let a = FakeGateway(
            key: Self.gatewayA,
            producers: [.init(id: TestKeys.key(0x61).id, tnt: 0, availableWh: 9000)]
        )
        let b = FakeGateway(key: Self.gatewayB, producers: [])
        let h = try await NodeHarness.make()
        try await withGateways(a, b) { portA, portB in
            let cert = try await Self.setUp(h, portA: portA, portB: portB)
            try await SuperNodeEventStreamTests.withServer(h) { port in
                let stream = try RawConnection(port: port)
                stream.send(SuperNodeEventStreamTests.request)
                try await SuperNodeEventStreamTests.expect(stream, toReceive: "event: hello")
                let (refusedStatus, _) = try await escalate(h, nil, try Self.request(1, 100))
                #expect(refusedStatus == 401)
                let (_, answer) = try await escalate(h, cert, try Self.request(2, 20_000))
                #expect(answer.status == "unserved")
                try await SuperNodeEventStreamTests.expect(stream, toReceive: "event: escalation")
                let events = stream.chunkedBody.components(separatedBy: "\n\n").filter {
                    $0.hasPrefix("event: escalation")
                }
                #expect(events.count == 1)
                let data = try #require(events.first?.split(separator: "\n").first { $0.hasPrefix("data: ") })
                let event = try JSONDecoder().decode(EscalationEventView.self, from: Data(data.dropFirst(6).utf8))
                #expect(event.consumer == Self.consumer.id.hex && event.energyWh == 20_000)
                #expect(event.answer.status == "unserved" && event.answer.reason == "no-candidate")
            }
        }
    }
}

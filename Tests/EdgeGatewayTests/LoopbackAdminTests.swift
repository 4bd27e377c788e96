import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

/// A gateway serving plain HTTP puts `LoopbackAdminResponder` in front of its router. The
/// requests here reach it as the server hands them over, on a connection whose peer address
/// is set: 192.0.2.7 and 2001:db8::7 (documentation addresses) are other machines.
@Suite("Plain HTTP: admin calls are accepted from loopback peers only")
struct LoopbackAdminTests {
    static let refusal =
        "admin calls over plain HTTP are accepted from this machine (loopback) only; serve with --tls to call them from elsewhere"

    /// What the client of a plain-HTTP gateway gets back.
    struct Answer {
        var status: HTTPResponse.Status
        var body: String
    }

    /// The answer of the plain-HTTP server's responder to a request from `peer`. An error
    /// the responder throws is answered as Hummingbird's `Application` answers it: it renders
    /// nothing itself, so anything thrown out of its outermost responder is a bare 500 (the
    /// responder renders its refusal itself for that reason).
    func answer(
        _ h: Harness,
        _ method: HTTPRequest.Method,
        _ path: String,
        headers: HTTPFields = .json,
        body: [UInt8] = [],
        from peer: String
    ) async throws -> Answer {
        let channel = NIOAsyncTestingChannel()
        channel.remoteAddress = try SocketAddress(ipAddress: peer, port: 40_000)
        let responder = LoopbackAdminResponder(inner: h.gateway.router().buildResponder())
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "gateway", path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer(bytes: body))
        )
        let context = PeerRequestContext(
            source: ApplicationRequestContextSource(channel: channel, logger: h.logs.logger)
        )
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch {
            response = Response(status: .internalServerError)
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        return Answer(status: response.status, body: String(buffer: collector.bytes))
    }

    func enrollBody(_ meter: SigningIdentity) throws -> [UInt8] {
        Array(
            try JSONEncoder().encode(
                AdminKeyRequest(publicKey: KeyFile.publicKeyLine(meter.publicIdentity), meter: nil, role: "consumer")
            )
        )
    }

    @Test("enroll and revoke from a peer on another machine are refused with 403 and the fix, even with the token")
    func adminCallsFromAnotherMachineAreRefused() async throws {
        let h = try await Harness.make()
        defer {
            h.close()
            try? FileManager.default.removeItem(atPath: h.dir.path)
        }
        let meter = SigningIdentity()
        let token: HTTPFields = [.authorization: "Bearer \(h.gateway.token)"]
        for peer in ["192.0.2.7", "2001:db8::7"] {
            let enrolled = try await answer(
                h,
                .post,
                "/v1/admin/enroll",
                headers: token.json,
                body: try enrollBody(meter),
                from: peer
            )
            #expect(enrolled.status == .forbidden, "\(peer): \(enrolled.body)")
            #expect(enrolled.body.contains(Self.refusal), "\(peer): \(enrolled.body)")
            let revoke = Array(
                try JSONEncoder().encode(AdminKeyRequest(publicKey: nil, meter: meter.id.hex, role: nil))
            )
            let revoked = try await answer(
                h,
                .post,
                "/v1/admin/revoke",
                headers: token.json,
                body: revoke,
                from: peer
            )
            #expect(revoked.status == .forbidden, "\(peer): \(revoked.body)")
            #expect(revoked.body.contains(Self.refusal), "\(peer): \(revoked.body)")
            let many = Array(
                try JSONEncoder().encode(
                    AdminEnrollmentsRequest(publicKeys: [KeyFile.publicKeyLine(meter.publicIdentity)])
                )
            )
            let bulk = try await answer(h, .post, "/v1/admin/enrollments", headers: token.json, body: many, from: peer)
            #expect(bulk.status == .forbidden, "\(peer): \(bulk.body)")
        }
        // Nothing was enrolled: the same meter is enrolled afresh from loopback.
        let local = try await answer(
            h,
            .post,
            "/v1/admin/enroll",
            headers: token.json,
            body: try enrollBody(meter),
            from: "127.0.0.1"
        )
        #expect(local.status == .ok, "\(local.body)")
    }

    @Test("enroll and revoke from a loopback peer reach the router and its token check")
    func adminCallsFromLoopbackReachTheTokenCheck() async throws {
        let h = try await Harness.make()
        defer {
            h.close()
            try? FileManager.default.removeItem(atPath: h.dir.path)
        }
        let meter = SigningIdentity()
        for peer in ["127.0.0.1", "::1"] {
            let unauthorised = try await answer(h, .post, "/v1/admin/enroll", body: try enrollBody(meter), from: peer)
            #expect(unauthorised.status == .unauthorized, "\(peer): \(unauthorised.body)")
            #expect(unauthorised.body.contains("missing Authorization header"), "\(peer): \(unauthorised.body)")
        }
        let token: HTTPFields = [.authorization: "Bearer \(h.gateway.token)"]
        let enrolled = try await answer(
            h,
            .post,
            "/v1/admin/enroll",
            headers: token.json,
            body: try enrollBody(meter),
            from: "::1"
        )
        #expect(enrolled.status == .ok, "\(enrolled.body)")
    }

    @Test("a route that is not an admin route is served to a peer on another machine")
    func otherRoutesAreServedToAnyPeer() async throws {
        let h = try await Harness.make()
        defer {
            h.close()
            try? FileManager.default.removeItem(atPath: h.dir.path)
        }
        let health = try await answer(h, .get, GatewayRoutes.health.template, from: "192.0.2.7")
        #expect(health.status == .ok, "\(health.body)")
    }
}

/// Collects a response body.
private final class BodyCollector: ResponseBodyWriter {
    var bytes = ByteBuffer()

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        bytes.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

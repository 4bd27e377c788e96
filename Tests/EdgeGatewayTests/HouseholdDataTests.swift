import Foundation
import GridAPI
import GridAPIServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// Issue 13, point 10: a meter's readings and receipts (and anomalies, dispatches, a block's
/// entries) are household data. A gateway listening beyond loopback serves them only to the
/// operator's token or to a request signed by the meter's own key; aggregate views stay public.
@Suite("Household data beyond loopback")
struct HouseholdDataTests {
    /// A gateway with one meter's sealed reading, and its router as `serve` builds it for a
    /// listen address beyond loopback.
    struct Fixture {
        let h: Harness
        let meter: SigningIdentity
        let neighbour: SigningIdentity

        static func make() async throws -> Fixture {
            let h = try await Harness.make()
            let meter = SigningIdentity()
            let neighbour = SigningIdentity()
            try await h.enroll(meter)
            try await h.enroll(neighbour)
            #expect(try await h.post([try h.reading(meter, 1)]).map(\.summary) == ["accepted"])
            await h.gateway.writer.sealNow()
            return Fixture(h: h, meter: meter, neighbour: neighbour)
        }

        var readings: String { "/v1/meters/\(meter.id.hex)/readings" }
        var receipt: String { "/v1/readings/\(meter.id.hex)/1/receipt" }

        /// The status and body of a GET with `headers`, through the router `serve` builds.
        func get(_ uri: String, restricted: Bool = true, headers: HTTPFields = [:]) async throws -> (Int, String) {
            let app = Application(router: h.gateway.router(restrictHouseholdData: restricted), logger: h.logs.logger)
            return try await app.test(.router) { client in
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    (Int(response.status.code), String(buffer: response.body))
                }
            }
        }

        /// A request stamp for a GET of `endpoint`, signed by `signer`.
        func stamp(_ endpoint: Endpoint, by signer: SigningIdentity, at time: Int64? = nil) throws -> HTTPFields {
            let value = try RequestSigning.headerValue(
                signer: signer,
                at: time ?? h.clock.now,
                endpoint: endpoint,
                body: []
            )
            return [HTTPField.Name(RequestSigning.header)!: value]
        }

        var token: HTTPFields { [.authorization: "Bearer \(h.gateway.token)"] }
    }

    @Test func onLoopbackEverythingIsServedAsBefore() async throws {
        let f = try await Fixture.make()
        defer { f.h.close() }
        for uri in [f.readings, f.receipt, "/v1/blocks/1", "/v1/anomalies", "/v1/dispatches"] {
            #expect(try await f.get(uri, restricted: false).0 == 200, "\(uri)")
        }
    }

    @Test func beyondLoopbackHouseholdDataNeedsTheTokenAndAggregatesStayPublic() async throws {
        let f = try await Fixture.make()
        defer { f.h.close() }
        for uri in [f.readings, f.receipt, "/v1/blocks/1", "/v1/anomalies", "/v1/dispatches"] {
            let (status, body) = try await f.get(uri)
            #expect(status == 401, "\(uri): \(body)")
            #expect(body.contains("household data") && body.contains("admin token"), "\(uri): \(body)")
            #expect(try await f.get(uri, headers: f.token).0 == 200, "\(uri) with the operator's token")
            let wrong = try await f.get(uri, headers: [.authorization: "Bearer " + String(repeating: "0", count: 64)])
            #expect(wrong.0 == 401, "\(uri) with a wrong token")
        }
        for uri in ["/healthz", "/v1/blocks", "/v1/meters", "/v1/meters/\(f.meter.id.hex)", "/v1/tnt", "/v1/fairness"] {
            let (status, body) = try await f.get(uri)
            #expect(status == 200, "\(uri) is an aggregate view: \(body)")
        }
    }

    @Test func aMeterReadsItsOwnDataWithARequestItSigned() async throws {
        let f = try await Fixture.make()
        defer { f.h.close() }
        let readings = try await f.get(f.readings, headers: try f.stamp(GatewayRoutes.meterReadings, by: f.meter))
        #expect(readings.0 == 200, "\(readings.1)")
        #expect(readings.1.contains(f.meter.id.hex))
        let receipt = try await f.get(f.receipt, headers: try f.stamp(GatewayRoutes.receipt, by: f.meter))
        #expect(receipt.0 == 200, "\(receipt.1)")
    }

    @Test func signaturesThatDoNotProveTheMeterAreRefused() async throws {
        let f = try await Fixture.make()
        defer { f.h.close() }
        // Another enrolled meter's key.
        var answer = try await f.get(f.readings, headers: try f.stamp(GatewayRoutes.meterReadings, by: f.neighbour))
        #expect(answer.0 == 401)
        #expect(answer.1.contains("not by meter \(f.meter.id.hex)"), "\(answer.1)")
        // A stamp made for the receipt route, used on the readings route.
        answer = try await f.get(f.readings, headers: try f.stamp(GatewayRoutes.receipt, by: f.meter))
        #expect(answer.0 == 401)
        #expect(answer.1.contains("another route"), "\(answer.1)")
        // Stamped outside the window.
        let stale = f.h.clock.now - RequestStampVerifier.standardWindow - 1
        answer = try await f.get(f.readings, headers: try f.stamp(GatewayRoutes.meterReadings, by: f.meter, at: stale))
        #expect(answer.0 == 401)
        #expect(answer.1.contains("from the gateway's clock"), "\(answer.1)")
        // The same signed request twice: a copy seen on the way is of no use.
        let once = try f.stamp(GatewayRoutes.meterReadings, by: f.meter)
        #expect(try await f.get(f.readings, headers: once).0 == 200)
        answer = try await f.get(f.readings, headers: once)
        #expect(answer.0 == 401)
        #expect(answer.1.contains("nonce was used before"), "\(answer.1)")
        // Not base64 at all.
        answer = try await f.get(f.readings, headers: [HTTPField.Name(RequestSigning.header)!: "%%%"])
        #expect(answer.0 == 401)
        // A meter's signature never opens data that is not one meter's.
        answer = try await f.get("/v1/blocks/1", headers: try f.stamp(GatewayRoutes.block, by: f.meter))
        #expect(answer.0 == 401)
    }
}

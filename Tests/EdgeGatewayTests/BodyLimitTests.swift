import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// Issue 13, point 5: each POST route reads at most what its largest valid request needs
/// (`BodyLimit`), not 8 MiB, and refuses more with 413 before decoding anything.
@Suite("Request body limits")
struct BodyLimitTests {
    /// The largest reading an agent can send: addressed to a gateway, every measurand,
    /// sequence and timestamp at their widest.
    static func largestReading(_ meter: SigningIdentity, gateway: GatewayID, sequence: UInt64) throws -> SignedRecord {
        let values = Measurand.allCases.map {
            MeasuredValue($0, $0.isCounterResolution ? Measurand.maxResolutionWh : Int64.min)
        }
        let reading = try Reading(
            meter: meter.id,
            gateway: gateway,
            sequence: sequence,
            timestamp: Int64.min,
            values: values
        )
        return try SignedRecord.sign(.reading(reading), with: meter)
    }

    @Test func aFullBatchOfTheLargestReadingsFitsAndIsRead() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let gateway = h.gateway.writer.gatewayKey.id
        let batch = try (1...UInt64(IngestBatch.maxRecords)).map {
            try Self.largestReading(meter, gateway: gateway, sequence: UInt64.max - $0)
        }
        #expect(
            batch.allSatisfy { $0.bytes.count <= SignedRecord.envelopeBytes(body: Reading.maxEncodedBytes) }
        )
        let body = try JSONEncoder().encode(IngestBatch(signed: batch))
        #expect(body.count <= GatewayRoutes.readings.maxBodyBytes)
        // Where the route used to read up to 8 MiB.
        #expect(GatewayRoutes.readings.maxBodyBytes < 2 << 20)
        let results = try await h.post(raw: IngestBatch(signed: batch).records)
        #expect(results.count == IngestBatch.maxRecords)
    }

    @Test func everyPostRouteRefusesABodyBeyondItsLimitWith413() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        // Escalated dispatches are refused before their body is read on a gateway without a
        // super node (404 no-super-node); EscalationAPITests covers that route with one.
        let posts = GatewayRoutes.all.filter { $0.method == .post && $0 != GatewayRoutes.escalatedDispatches }
        #expect(posts.count == 6)
        try await h.app().test(.router) { client in
            for route in posts {
                #expect(route.maxBodyBytes > 0 && route.maxBodyBytes <= BodyLimit.ingestBatch, "\(route)")
                var headers = HTTPFields.json
                headers[.authorization] = "Bearer \(h.gateway.token)"
                let oversize = "{\"records\": [\"" + String(repeating: "A", count: route.maxBodyBytes) + "\"]}"
                try await client.execute(
                    uri: route.path(),
                    method: .post,
                    headers: headers,
                    body: ByteBuffer(string: oversize)
                ) { response in
                    #expect(response.status == .contentTooLarge, "\(route): \(String(buffer: response.body))")
                    #expect(String(buffer: response.body).contains("larger than \(route.maxBodyBytes) bytes"))
                }
            }
        }
        #expect(try h.gateway.writer.store.anomalies().isEmpty)
    }

    @Test func aSingleRecordRouteTakesTheLargestSignedRecord() throws {
        let largest = Data(repeating: 0xff, count: SignedRecord.maxEnvelopeBytes).base64EncodedString()
        let body = try JSONEncoder().encode(TradeSubmission(record: largest))
        #expect(body.count <= GatewayRoutes.offers.maxBodyBytes)
        #expect(GatewayRoutes.offers.maxBodyBytes <= 16 * 1024)
    }
}

import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import GatewayCore
@testable import LedgerLite

/// Issue 13, point 4: a body that is not sent as JSON is refused before any handler reads it,
/// so a web page cannot make a visitor's browser write to the chain with a simple
/// (unpreflighted) cross-site POST.
@Suite("Request media types")
struct MediaTypeTests {
    /// The three kinds of cross-site POST a browser sends without a preflight: `text/plain`,
    /// a form type, and a typeless body.
    static let browserTypes: [String?] = [
        "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", nil,
    ]

    @Test(arguments: browserTypes)
    func readingsThatAreNotJSONAreRefusedAndLeaveNoTrace(contentType: String?) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        // 999 readings naming the meter with zero signatures: before, each request added
        // gateway-signed anomalies.
        let forged = try (1...999).map { seq -> String in
            var bytes = try h.reading(m, UInt64(seq)).bytes
            bytes.replaceSubrange((bytes.count - 64)..., with: [UInt8](repeating: 0, count: 64))
            return Data(bytes).base64EncodedString()
        }
        let body = try JSONEncoder().encode(IngestBatch(records: forged))
        let before = try h.gateway.writer.store.tip()
        try await h.app().test(.router) { client in
            var headers = HTTPFields()
            if let contentType { headers[.contentType] = contentType }
            try await client.execute(
                uri: "/v1/readings",
                method: .post,
                headers: headers,
                body: ByteBuffer(bytes: body)
            ) {
                response in
                #expect(response.status == .unsupportedMediaType)
                let error = try JSONDecoder().decode(ErrorView.self, from: Data(buffer: response.body))
                #expect(error.error.contains("Content-Type: application/json"))
                #expect(error.error.contains(contentType ?? "no Content-Type"))
            }
        }
        await h.gateway.writer.sealNow()
        #expect(try h.gateway.writer.store.anomalies().isEmpty)
        #expect(try h.gateway.writer.store.tip() == before)
    }

    @Test func everyPostRouteRequiresJSON() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let posts = GatewayRoutes.all.filter { $0.method == .post }
        #expect(!posts.isEmpty)
        try await h.app().test(.router) { client in
            for route in posts {
                let uri = route.path()
                try await client.execute(
                    uri: uri,
                    method: .post,
                    headers: [.contentType: "text/plain"],
                    body: ByteBuffer(string: "{}")
                ) { response in
                    #expect(response.status == .unsupportedMediaType, "\(uri)")
                }
            }
        }
    }

    @Test(arguments: ["application/json", "application/json; charset=utf-8", "Application/JSON"])
    func jsonIsAcceptedWithParametersAndInAnyCase(contentType: String) async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let m = SigningIdentity()
        try await h.enroll(m)
        let body = try JSONEncoder().encode(IngestBatch(signed: [try h.reading(m, 1)]))
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/readings",
                method: .post,
                headers: [.contentType: contentType],
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
            }
        }
    }
}

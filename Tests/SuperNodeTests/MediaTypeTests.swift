import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import SuperNodeCore

/// Issue 13, point 4: the super node reads a body only when it is sent as JSON.
@Suite("Super node request media types")
struct SuperNodeMediaTypeTests {
    @Test func everyPostRouteRefusesBodiesThatAreNotJSON() async throws {
        let h = try await NodeHarness.make()
        let posts = SuperNodeRoutes.all.filter { $0.method == .post }
        #expect(!posts.isEmpty)
        try await h.app().test(.router) { client in
            for route in posts {
                for contentType in ["text/plain", "application/x-www-form-urlencoded", nil] {
                    var headers = HTTPFields()
                    if let contentType { headers[.contentType] = contentType }
                    try await client.execute(
                        uri: route.path(),
                        method: .post,
                        headers: headers,
                        body: ByteBuffer(string: "{\"blocks\": []}")
                    ) { response in
                        #expect(response.status == .unsupportedMediaType, "\(route.path()) \(contentType ?? "none")")
                        let refusal = try JSONDecoder().decode(RejectionView.self, from: Data(buffer: response.body))
                        #expect(refusal.reason == "unsupported-media-type")
                        #expect(refusal.message.contains("Content-Type: application/json"))
                    }
                }
            }
        }
        #expect(try await h.node.certificates().isEmpty)
    }
}

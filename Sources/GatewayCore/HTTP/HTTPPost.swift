import AsyncHTTPClient
import Foundation
import Hummingbird
import OperatorKit

/// The admin client's one HTTP call.
package enum HTTPPost {
    package static func post(url: String, token: String, body: Data) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Data(buffer: bytes))
        } catch {
            throw OperatorError(
                "cannot reach the running gateway at \(url): \(error); check that `edge-gateway serve` is up"
            )
        }
    }
}

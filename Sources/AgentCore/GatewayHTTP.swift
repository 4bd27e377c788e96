import AsyncHTTPClient
import Foundation
import NIOCore
import OperatorKit

/// The agent's HTTP calls to the gateway (readings, meter lookups, offers, requests):
/// JSON bodies in, status and body bytes out. One place for URLs, headers, timeouts and
/// body limits; callers decide what an answer means.
package struct GatewayHTTP: Sendable {
    /// The gateway's base URL, e.g. http://127.0.0.1:8080.
    package let base: URL
    package let client: HTTPClient

    /// What the gateway answered.
    package struct Answer: Sendable {
        package let status: Int
        package let body: Data
        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Runs `body` with a client for `base` and shuts the client down afterwards,
    /// whether `body` returns or throws.
    package static func withClient<T: Sendable>(
        base: URL,
        _ body: (GatewayHTTP) async throws -> T
    ) async throws -> T {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(15))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: T
        do {
            result = try await body(GatewayHTTP(base: base, client: client))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    /// The absolute URL of `path` (no leading slash) under the base.
    package func url(_ path: String) -> String {
        base.appendingPathComponent(path).absoluteString
    }

    /// `POST path` with `body` as JSON.
    package func post(
        _ path: String,
        json body: some Encodable,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return try await execute(request, timeout: timeout, limit: limit)
    }

    /// `GET path`.
    package func get(_ path: String, timeout: Duration, limit: Int = 1 << 20) async throws -> Answer {
        try await execute(HTTPClientRequest(url: url(path)), timeout: timeout, limit: limit)
    }

    private func execute(_ request: HTTPClientRequest, timeout: Duration, limit: Int) async throws -> Answer {
        let response = try await client.execute(request, timeout: .milliseconds(max(1, Int64(timeout.milliseconds))))
        let body = try await response.body.collect(upTo: limit)
        return Answer(status: Int(response.status.code), body: Data(body.readableBytesView))
    }
}

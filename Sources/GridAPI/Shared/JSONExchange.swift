import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// One HTTP exchange of the typed clients: JSON out, status and capped body bytes in.
struct JSONExchange: Sendable {
    let client: HTTPClient
    var tls: ClientTLS = .system

    func send(
        _ method: Endpoint.Method,
        url: String,
        json body: (some Encodable)?,
        headers: [(String, String)] = [],
        timeout: Duration,
        limit: Int
    ) async throws(GridAPIError) -> HTTPAnswer {
        var bytes: [UInt8]?
        if let body {
            do { bytes = Array(try JSONEncoder().encode(body)) } catch { throw .transport(url: url, error: error) }
        }
        return try await send(method, url: url, jsonBytes: bytes, headers: headers, timeout: timeout, limit: limit)
    }

    /// Sends `jsonBytes` verbatim as the JSON body (a body someone signed must go out as signed).
    func send(
        _ method: Endpoint.Method,
        url: String,
        jsonBytes body: [UInt8]?,
        headers: [(String, String)] = [],
        timeout: Duration,
        limit: Int
    ) async throws(GridAPIError) -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = method == .post ? .POST : .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            request.tlsConfiguration = try await tls.configuration(for: url)
            let response = try await client.execute(
                request,
                timeout: .milliseconds(max(1, timeout.exchangeMilliseconds))
            )
            let bytes = try await response.body.collect(upTo: limit)
            return HTTPAnswer(
                status: Int(response.status.code),
                body: Data(buffer: bytes),
                retryAfter: GridAPIError.retryAfter(header: response.headers.first(name: "Retry-After"))
            )
        } catch {
            throw .transport(url: url, error: error)
        }
    }

    func get(url: String, timeout: Duration, limit: Int) async throws(GridAPIError) -> HTTPAnswer {
        try await send(.get, url: url, json: Optional<Empty>.none, timeout: timeout, limit: limit)
    }

    private struct Empty: Encodable {}

    /// The body as `T` when the status is 200; otherwise the status and the server's reason.
    static func ok<T: Decodable>(
        _ type: T.Type,
        _ answer: HTTPAnswer,
        url: String
    ) throws(GridAPIError) -> T {
        guard answer.status == 200 else { throw refusal(answer, url: url) }
        do { return try JSONDecoder().decode(T.self, from: answer.body) } catch {
            throw .undecodable(status: answer.status, url: url, body: answer.body)
        }
    }

    /// The body as `T` whatever the status (routes that answer refusals in the same shape),
    /// except 429 (too many requests), whose answer is always an error that carries its
    /// `Retry-After`: the caller's request was not looked at.
    static func any<T: Decodable & Sendable>(
        _ type: T.Type,
        _ answer: HTTPAnswer,
        url: String
    ) throws(GridAPIError) -> Answer<T> {
        guard answer.status != 429 else { throw refusal(answer, url: url) }
        do { return Answer(status: answer.status, body: try JSONDecoder().decode(T.self, from: answer.body)) } catch {
            throw .undecodable(status: answer.status, url: url, body: answer.body)
        }
    }

    static func refusal(_ answer: HTTPAnswer, url: String) -> GridAPIError {
        var reason: String?
        var detail: String?
        if let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] {
            reason = object["reason"] as? String
            detail = (object["error"] ?? object["message"] ?? object["detail"]) as? String
        }
        return .status(
            answer.status,
            url: url,
            reason: reason,
            detail: detail,
            body: answer.body,
            retryAfter: answer.retryAfter
        )
    }
}

/// An HTTP answer as the typed clients read it: status, capped body, and `Retry-After`.
struct HTTPAnswer: Sendable {
    var status: Int
    var body: Data
    var retryAfter: Duration?
}

extension Duration {
    var exchangeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

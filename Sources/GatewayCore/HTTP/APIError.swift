import GridAPI
import Hummingbird

/// A refusal of the gateway's HTTP API: its status and one sentence that says what to do,
/// answered as `{"error": "…"}` (`ErrorView`). Handlers throw it; Hummingbird renders it.
package struct APIError: HTTPResponseError {
    package let status: HTTPResponse.Status
    package let message: String
    /// Seconds after which the same request may succeed, sent as `Retry-After` (429, 503).
    package let retryAfterSeconds: Int?

    package init(_ status: HTTPResponse.Status, _ message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Every reader thread is busy and the queue for them is full.
    package static func busy(_ busy: ReaderPool.Busy) -> APIError {
        APIError(
            .serviceUnavailable,
            "the gateway is answering \(busy.waiting) other queries; ask again in a second",
            retryAfterSeconds: 1
        )
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Gateway.json(ErrorView(error: message), status: status)
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }
}

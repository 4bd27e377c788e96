import GridAPI
import Hummingbird

/// A refusal of the gateway's HTTP API: its status and one sentence that says what to do,
/// answered as `{"error": "…"}` (`ErrorView`). Handlers throw it; Hummingbird renders it.
package struct APIError: HTTPResponseError {
    package let status: HTTPResponse.Status
    package let message: String

    package init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        Gateway.json(ErrorView(error: message), status: status)
    }
}

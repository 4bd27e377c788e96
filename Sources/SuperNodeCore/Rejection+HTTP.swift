import GridAPI
import Hummingbird

/// A refused request to the super node is answered with its reason and message
/// (`RejectionView`) and the reason's status; handlers throw it.
extension Rejection: HTTPResponseError {
    package var status: HTTPResponse.Status { HTTPResponse.Status(code: reason.status) }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = SuperNode.json(RejectionView(self), status: status)
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }
}

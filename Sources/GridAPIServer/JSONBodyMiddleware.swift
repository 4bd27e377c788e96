import Hummingbird

/// Refuses, before any handler reads it, a request that carries a body (POST, PUT, PATCH)
/// whose `Content-Type` is not `application/json`: 415 Unsupported Media Type.
///
/// Both servers take only JSON bodies. A web page can make a visitor's browser send a
/// cross-site POST without a CORS preflight only with `text/plain`, a form type, or no
/// `Content-Type` at all (a typeless `Blob`); requiring `application/json` makes every such
/// request a preflighted one, which these servers never approve. The refusal's shape is the
/// server's own (the gateway's `APIError`, the super node's `Rejection`), so `refusal` builds it.
package struct JSONBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    private let refusal: @Sendable (_ message: String) -> any Error

    /// - Parameter refusal: the server's error for a 415, given one sentence that says what
    ///   was sent and what to send.
    package init(refusal: @escaping @Sendable (_ message: String) -> any Error) {
        self.refusal = refusal
    }

    package func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.carriesBody(request.method), !Self.isJSON(request.headers[.contentType]) else {
            return try await next(request, context)
        }
        let sent = request.headers[.contentType].map { "Content-Type \($0)" } ?? "no Content-Type"
        throw refusal("the body was sent with \(sent); send JSON with `Content-Type: application/json`")
    }

    /// Whether requests of `method` carry a body this rule applies to.
    static func carriesBody(_ method: HTTPRequest.Method) -> Bool {
        method == .post || method == .put || method == .patch
    }

    /// Whether a `Content-Type` value names JSON (`application/json`, any case, with or
    /// without parameters such as `charset=utf-8`).
    package static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType, let media = MediaType(from: contentType) else { return false }
        return media.type == .application && media.subType.lowercased() == "json"
    }
}

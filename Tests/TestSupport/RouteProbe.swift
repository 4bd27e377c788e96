import GridAPI
import Hummingbird
import HummingbirdTesting
import Testing

/// The router's half of an OpenAPI contract test: a server's router serves every route of its
/// table, and no other.
package enum RouteProbe {
    /// Sends every route of `routes` to `app`'s router (path parameters from `parameters`, POST
    /// with the body `{}`) and expects each to reach a handler: never 405, and 404 only with a
    /// body, since a handler's 404 says why and the router's own has none. Then expects a path
    /// of no route to get the router's own 404, with no body.
    /// An event stream never ends, and the router's test client reads a body to its end: such a
    /// route is asked with `Accept: application/json`, which its handler refuses (406, with a body).
    package static func expectServesExactly(
        _ routes: [Endpoint],
        app: some ApplicationProtocol,
        parameters: [String: String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await app.test(.router) { client in
            for endpoint in routes {
                let method: HTTPRequest.Method = endpoint.method == .post ? .post : .get
                var headers = HTTPFields()
                if endpoint.eventStream { headers[.accept] = "application/json" }
                try await client.execute(
                    uri: endpoint.path(parameters),
                    method: method,
                    headers: headers,
                    body: method == .post ? ByteBuffer(string: "{}") : nil
                ) { response in
                    #expect(response.status != .methodNotAllowed, "\(endpoint)", sourceLocation: sourceLocation)
                    if endpoint.eventStream {
                        #expect(response.status == .notAcceptable, "\(endpoint)", sourceLocation: sourceLocation)
                    }
                    // A handler's 404 says why in its body; the router's own has none.
                    #expect(
                        response.status != .notFound || response.body.readableBytes > 0,
                        "\(endpoint)",
                        sourceLocation: sourceLocation
                    )
                }
            }
            try await client.execute(uri: "/v1/not-a-route", method: .get) { response in
                #expect(response.status == .notFound, sourceLocation: sourceLocation)
                #expect(response.body.readableBytes == 0, sourceLocation: sourceLocation)
            }
        }
    }
}

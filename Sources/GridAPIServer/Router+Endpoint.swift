import GridAPI
import Hummingbird

extension Router {
    /// Adds `handler` for `endpoint` of a route table (`GatewayRoutes`, `SuperNodeRoutes`),
    /// so that a route's method and path are written once, for the server and its client.
    @discardableResult
    package func on<Output: ResponseGenerator>(
        _ endpoint: Endpoint,
        use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        on(RouterPath(endpoint.routerPath), method: endpoint.method == .post ? .post : .get, use: handler)
    }
}

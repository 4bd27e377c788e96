import GridAPI
import Hummingbird

extension Router {
    /// Adds `handler` for `endpoint` of the route table, so that the path is written once
    /// (the same helper as in the other server: each keeps its own, internal).
    @discardableResult
    func on<Output: ResponseGenerator>(
        _ endpoint: Endpoint,
        use handler: @escaping @Sendable (Request, Context) async throws -> Output
    ) -> Self {
        on(RouterPath(endpoint.routerPath), method: endpoint.method == .post ? .post : .get, use: handler)
    }
}

import GridAPI
import GridAPIServer
import Hummingbird
import NIOCore
import OperatorKit

/// What a gateway serving plain HTTP answers in front of its router: the admin routes
/// (enroll, revoke) only to loopback peers, since their token would otherwise cross the
/// network unencrypted; everything else goes to the router as it is.
package struct LoopbackAdminResponder<Inner: HTTPResponder>: HTTPResponder
where Inner.Context == BasicRequestContext {
    package typealias Context = PeerRequestContext

    let inner: Inner
    let adminPaths: Set<String>

    package init(
        inner: Inner,
        adminPaths: Set<String> = [
            GatewayRoutes.enroll.template, GatewayRoutes.enrollments.template, GatewayRoutes.revoke.template,
        ]
    ) {
        self.inner = inner
        self.adminPaths = adminPaths
    }

    package func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        if adminPaths.contains(request.uri.path), !LoopbackAddress.contains(context.channel.remoteAddress?.ipAddress) {
            // Rendered here: Hummingbird answers an error thrown by a responder outside a
            // router with a bare 500.
            return try APIError(
                .forbidden,
                "admin calls over plain HTTP are accepted from this machine (loopback) only; serve with --tls to call them from elsewhere"
            ).response(from: request, context: context)
        }
        return try await inner.respond(to: request, context: context.basic)
    }
}

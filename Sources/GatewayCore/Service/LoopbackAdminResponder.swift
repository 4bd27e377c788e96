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
        adminPaths: Set<String> = [GatewayRoutes.enroll.template, GatewayRoutes.revoke.template]
    ) {
        self.inner = inner
        self.adminPaths = adminPaths
    }

    package func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        if adminPaths.contains(request.uri.path), !LoopbackAddress.contains(context.channel.remoteAddress?.ipAddress) {
            throw APIError(
                .forbidden,
                "admin calls over plain HTTP are accepted from this machine (loopback) only; serve with --tls to call them from elsewhere"
            )
        }
        return try await inner.respond(to: request, context: context.basic)
    }
}

import GridAPI
import Hummingbird
import NIOCore
import OperatorKit

/// A request context that keeps where the request came from, so that a responder in front of
/// the router can tell a loopback peer from a remote one.
package struct PeerRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The router's own context for the same request.
    var basic: BasicRequestContext {
        BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
    }
}

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

import Hummingbird
import NIOCore

/// A request context that keeps the connection a request came on, so that a responder in
/// front of a router can look at the peer (its address, its TLS certificate) before the
/// router's handlers see the request with their own `BasicRequestContext`.
package struct PeerRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The connection.
    package let channel: any Channel

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The router's own context for the same request.
    package var basic: BasicRequestContext {
        BasicRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
    }
}

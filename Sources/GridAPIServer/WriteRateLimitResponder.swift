import Hummingbird
import Logging
import NIOCore
import OperatorKit

/// In front of a server's router: a write request (POST) from a source that is over its
/// `WriteRate` is refused before its body is read, with the error `refusal` makes from the
/// seconds to wait (the server's own 429 shape, with `Retry-After`). Reads are not counted;
/// without a limiter every request goes through.
/// A source is the peer's IP address; IPv6 peers count by their /64 network, since one host
/// commonly holds a whole /64.
package struct WriteRateLimitResponder<Inner: HTTPResponder>: HTTPResponder
where Inner.Context == PeerRequestContext {
    package typealias Context = PeerRequestContext

    let inner: Inner
    let limiter: WriteRateLimiter?
    let refusal: @Sendable (_ retryAfterSeconds: Int) -> any HTTPResponseError
    let onThrottled: @Sendable (_ source: String) -> Void

    /// - Parameters:
    ///   - refusal: the error thrown for a refused request, given `Retry-After` in seconds.
    ///   - onThrottled: told each refusal (metrics, a rate-limited log line).
    package init(
        inner: Inner,
        limiter: WriteRateLimiter?,
        refusal: @escaping @Sendable (_ retryAfterSeconds: Int) -> any HTTPResponseError,
        onThrottled: @escaping @Sendable (_ source: String) -> Void = { _ in }
    ) {
        self.inner = inner
        self.limiter = limiter
        self.refusal = refusal
        self.onThrottled = onThrottled
    }

    package func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        if request.method == .post, let limiter {
            let source = WriteRateLimiter.source(of: context.channel.remoteAddress)
            if let wait = limiter.admit(source) {
                onThrottled(source)
                // Rendered here: Hummingbird answers an error thrown by a responder outside a
                // router with a bare 500.
                return try refusal(WriteRateLimiter.retryAfterSeconds(wait)).response(from: request, context: context)
            }
        }
        return try await inner.respond(to: request, context: context)
    }
}

/// Hands a request to a router built with `BasicRequestContext`, for a front responder
/// (`WriteRateLimitResponder`) that has no other responder of its own between it and the router.
package struct PeerContextAdapter<Inner: HTTPResponder>: HTTPResponder where Inner.Context == BasicRequestContext {
    package typealias Context = PeerRequestContext

    let inner: Inner

    package init(inner: Inner) {
        self.inner = inner
    }

    package func respond(to request: Request, context: PeerRequestContext) async throws -> Response {
        try await inner.respond(to: request, context: context.basic)
    }
}

import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// How long a server lets a connection take, and how many it serves at once (docs/GATEWAY.md
/// and docs/SUPERNODE.md, "Limits"), so stalled or slow clients cannot hold it.
package struct ServerLimits: Sendable, Equatable {
    /// A connection that sends nothing for this long (no request, or a request's header not
    /// complete, since the header is only seen whole) is closed; so is one idle between requests.
    package var idleTimeout: Duration
    /// A request's body must have arrived whole this long after its header; else the
    /// connection is closed (a body trickled a byte at a time cannot hold it).
    package var requestTimeout: Duration
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    package var maxConnections: Int
    /// Write requests per source; nil for no limit (`WriteRateLimitResponder`).
    package var writeRate: WriteRate?
    /// Live event streams (`GET /v1/events`) at once, and their heartbeat. A stream is one of
    /// the `maxConnections`; the idle timeout does not cut it while it is open.
    package var eventStreams: EventStreamLimits

    package static let standardIdleTimeout: Duration = .seconds(30)
    package static let standardRequestTimeout: Duration = .seconds(60)
    package static let standardMaxConnections = 512

    package init(
        idleTimeout: Duration = standardIdleTimeout,
        requestTimeout: Duration = standardRequestTimeout,
        maxConnections: Int = standardMaxConnections,
        writeRate: WriteRate? = .standard,
        eventStreams: EventStreamLimits = EventStreamLimits()
    ) {
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
        self.writeRate = writeRate
        self.eventStreams = eventStreams
    }

    /// A limiter for `writeRate`; nil without one.
    package func makeWriteRateLimiter() -> WriteRateLimiter? {
        writeRate.map { WriteRateLimiter(rate: $0) }
    }

    /// HTTP/1.1 with the idle and request timeouts.
    package var http1: HTTPServerBuilder {
        let requestTimeout = TimeAmount(self.requestTimeout)
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(timeout: requestTimeout)],
                idleTimeout: TimeAmount(idleTimeout)
            )
        )
    }

    /// The application's configuration for `address`, with the connection cap.
    package func configuration(address: BindAddress, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address,
            serverName: nil,
            availableConnectionsDelegate: .maximum(maxConnections, logger: logger)
        )
    }
}

/// Closes a connection whose request body has not arrived whole within `timeout` of its header.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}

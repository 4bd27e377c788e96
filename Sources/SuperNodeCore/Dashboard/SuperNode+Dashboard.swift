import GridAPI
import GridAPIServer
import Hummingbird

/// The live dashboard's routes: the page (`GET /`) and the event stream it follows
/// (`GET /v1/events`, docs/SUPERNODE.md, "Dashboard"). `SuperNode.router()` adds them.
extension SuperNode {
    /// At most `limits.maxStreams` streams are open at once.
    func addDashboardRoutes(to router: Router<BasicRequestContext>, limits: EventStreamLimits) {
        let slots = EventStreamSlots(limit: limits.maxStreams)
        let events = self.events
        router.on(SuperNodeRoutes.dashboard) { _, _ in
            SuperNodeDashboard.page.response()
        }
        router.on(SuperNodeRoutes.events) { request, _ in
            guard EventStreamResponse.accepts(request) else {
                throw Rejection(
                    reason: .notAcceptable,
                    message: "/v1/events answers text/event-stream only; accept it (or */*)"
                )
            }
            guard let ticket = slots.take() else {
                throw Rejection(
                    reason: .tooManyStreams,
                    message:
                        "\(slots.limit) event streams are open, the most this super node serves at once (--max-event-streams); retry later",
                    retryAfterSeconds: 10
                )
            }
            // Subscribed before the response goes out: nothing published after the hello is missed.
            let subscription = events.subscribe()
            let hello = try ServerSentEvent(
                event: "hello",
                json: EventStreamHello(heartbeatSeconds: limits.heartbeatSeconds),
                encoder: Self.encoder
            )
            return EventStreamResponse.make(
                ticket: ticket,
                first: [.retry(milliseconds: 3000), hello],
                heartbeat: limits.heartbeat
            ) { stream in
                for await event in subscription { stream.yield(event) }
            }
        }
    }

    /// Sends `value` as event `name` to every open stream.
    func publish(_ name: String, _ value: some Encodable) {
        guard events.subscriberCount > 0 else { return }
        do { events.publish(try ServerSentEvent(event: name, json: value, encoder: Self.encoder)) } catch {
            logger.error(
                "cannot encode an event of the event stream",
                metadata: ["event": "\(name)", "error": "\(error)"]
            )
        }
    }
}

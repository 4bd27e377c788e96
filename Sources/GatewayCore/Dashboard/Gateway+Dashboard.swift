import GridAPI
import GridAPIServer
import Hummingbird

/// The live dashboard's routes: the page (`GET /`) and the event stream it follows
/// (`GET /v1/events`, docs/GATEWAY.md, "Dashboard"). `Gateway.router()` adds them.
extension Gateway {
    /// Household data in the stream's block events follows `access`; at most
    /// `limits.maxStreams` streams are open at once.
    package func addDashboardRoutes(
        to router: Router<BasicRequestContext>,
        access: HouseholdReadAccess,
        limits: EventStreamLimits
    ) {
        let metrics = self.metrics
        let slots = EventStreamSlots(limit: limits.maxStreams) { metrics.eventStreams.set(Double($0)) }
        router.on(GatewayRoutes.dashboard) { _, _ in
            GatewayDashboard.page.response()
        }
        router.on(GatewayRoutes.events) { request, _ in
            guard EventStreamResponse.accepts(request) else {
                throw APIError(.notAcceptable, "/v1/events answers text/event-stream only; accept it (or */*)")
            }
            let lastSent: UInt64?
            do throws(EventStreamResponse.MalformedLastEventID) {
                lastSent = try EventStreamResponse.lastEventID(request)
            } catch {
                throw APIError(
                    .badRequest,
                    "Last-Event-ID '\(error.text)' is not a block height: send the id of the last block event received"
                )
            }
            let household = try access.allowsHouseholdData(request)
            guard let ticket = slots.take() else {
                throw APIError(
                    .serviceUnavailable,
                    "\(slots.limit) event streams are open, the most this gateway serves at once (--max-event-streams); retry later",
                    retryAfterSeconds: 10
                )
            }
            let feed = GatewayEventFeed(
                heights: self.writer.archiver.storedHeights,
                blocks: self.blockEvents,
                uplink: self.uplink,
                household: household,
                logger: self.logger
            )
            let hello = try ServerSentEvent(
                event: "hello",
                json: EventStreamHello(heartbeatSeconds: limits.heartbeatSeconds, householdData: household),
                encoder: Self.encoder
            )
            return EventStreamResponse.make(
                ticket: ticket,
                first: [.retry(milliseconds: 3000), hello],
                heartbeat: limits.heartbeat
            ) { events in
                await feed.produce(after: lastSent, into: events)
            }
        }
    }
}

import GridAPI

/// The writer's answer to a trade.
package enum TradeAnswer: Sendable {
    case offer(OfferResponse)
    case request(DispatchResponse)

    /// The same answer, deferred: the journal could not be written.
    package func deferred() -> TradeAnswer {
        let detail = "the gateway could not store it durably; send it again later"
        switch self {
        case let .offer(o):
            return .offer(
                OfferResponse(
                    status: .retry,
                    producer: o.producer,
                    sequence: o.sequence,
                    offeredWh: o.offeredWh,
                    reason: .storage,
                    detail: detail
                )
            )
        case let .request(r):
            return .request(
                DispatchResponse(
                    status: .retry,
                    consumer: r.consumer,
                    sequence: r.sequence,
                    requestedWh: r.requestedWh,
                    reason: .storage,
                    detail: detail
                )
            )
        }
    }

    /// True for a resend answered with an earlier decision (which may be in the same,
    /// not yet durable, group).
    package var isDuplicate: Bool {
        switch self {
        case let .offer(o): return o.status == .duplicate
        case let .request(r): return r.status == .duplicate
        }
    }

    package func count(in metrics: GatewayMetrics) {
        switch self {
        case let .offer(o): metrics.offer(o.status, reason: o.reason)
        case let .request(r): metrics.request(r.status, reason: r.reason)
        }
    }
}

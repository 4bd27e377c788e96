/// What the gateway did with a submitted offer or request.
package enum TradeStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Offer: recorded on the chain (possibly cut, see `OfferResponse.cutWh`).
    case accepted
    /// Request: recorded with a dispatch that serves it.
    case served
    /// Request: recorded with a dispatch that serves nobody (`reason` says why).
    case unserved
    /// The identical record is already on the chain and is not recorded twice. A request's
    /// answer repeats the recorded decision; an offer's carries its producer and sequence.
    case duplicate
    /// Not recorded; `reason` and `detail` say why. Do not send it again unchanged.
    case rejected
    /// Not recorded this time for a reason on the gateway's side; send it again later.
    case retry
}

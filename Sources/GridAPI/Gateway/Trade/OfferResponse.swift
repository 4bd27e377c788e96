/// The response to `POST /v1/offers`.
package struct OfferResponse: Codable, Sendable, Hashable {
    package var status: TradeStatus
    /// The producer's meter id (hex), when the record decoded.
    package var producer: String?
    /// The offer's sequence number, when the record decoded.
    package var sequence: UInt64?
    /// Energy the offer asked to make available, Wh.
    package var offeredWh: UInt64?
    /// Energy actually made available, Wh: the offer cut to metered export plus tolerance.
    package var creditedWh: UInt64?
    /// `offeredWh - creditedWh`; an anomaly is recorded when it is above zero.
    package var cutWh: UInt64?
    /// The producer's available energy after this offer, Wh.
    package var availableWh: UInt64?
    /// Height of the block the offer will be sealed in.
    package var blockHeight: UInt64?
    /// Set for `rejected` and `retry`.
    package var reason: TradeReason?
    /// A sentence for people.
    package var detail: String?

    package init(
        status: TradeStatus,
        producer: String? = nil,
        sequence: UInt64? = nil,
        offeredWh: UInt64? = nil,
        creditedWh: UInt64? = nil,
        cutWh: UInt64? = nil,
        availableWh: UInt64? = nil,
        blockHeight: UInt64? = nil,
        reason: TradeReason? = nil,
        detail: String? = nil
    ) {
        self.status = status
        self.producer = producer
        self.sequence = sequence
        self.offeredWh = offeredWh
        self.creditedWh = creditedWh
        self.cutWh = cutWh
        self.availableWh = availableWh
        self.blockHeight = blockHeight
        self.reason = reason
        self.detail = detail
    }
}

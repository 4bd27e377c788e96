import Foundation
import LedgerLite

/// The body of `POST /v1/offers` and `POST /v1/requests`: one signed record (an `Offer`
/// or an `EnergyRequest`), the exact envelope bytes of a `SignedRecord` in base64.
/// As for readings, JSON only carries the bytes; the gateway stores them verbatim.
package struct TradeSubmission: Codable, Sendable, Hashable {
    /// Base64 of `SignedRecord.bytes`.
    package var record: String

    package init(record: String) {
        self.record = record
    }

    package init(signed: SignedRecord) {
        self.record = Data(signed.bytes).base64EncodedString()
    }
}

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

/// Why an offer or request was rejected, deferred or left unserved. Stable codes.
package enum TradeReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// Not base64, not a signed envelope, or a body that does not decode.
    case malformed
    /// The record is not of the type this endpoint takes (an offer sent to /v1/requests…).
    case wrongRecordType = "wrong-record-type"
    /// The signer is not enrolled with this gateway.
    case unknownMeter = "unknown-meter"
    /// The signer was enrolled, then revoked.
    case revokedMeter = "revoked-meter"
    /// Offers come from producers and requests from consumers.
    case wrongRole = "wrong-role"
    /// The signature does not match the exact bytes.
    case badSignature = "bad-signature"
    /// The sequence number is not above the meter's previous offer or request.
    case staleSequence = "stale-sequence"
    /// The same sequence number as a recorded record, with other bytes.
    case conflictingDuplicate = "conflicting-duplicate"
    /// The offer's interval has already ended, or the request's time is outside the skew.
    case timestampSkew = "timestamp-skew"
    /// Nothing is credited: the producer has offered all it has metered (plus tolerance).
    case noMeteredProduction = "no-metered-production"
    /// Unserved: no producer (or, under the split policy, no set of producers) has enough
    /// available energy.
    case insufficientEnergy = "insufficient-energy"
    /// The gateway could not store it (disk, database); retry.
    case storage
}

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

/// One producer's part in serving a request.
package struct DispatchShareView: Codable, Sendable, Hashable {
    /// The producer's meter id (hex).
    package var producer: String
    /// Energy this producer delivers, Wh.
    package var energyWh: UInt64
    /// The producer's TNT before and after this dispatch.
    package var tntBefore: UInt64
    package var tntAfter: UInt64

    package init(producer: String, energyWh: UInt64, tntBefore: UInt64, tntAfter: UInt64) {
        self.producer = producer
        self.energyWh = energyWh
        self.tntBefore = tntBefore
        self.tntAfter = tntAfter
    }
}

/// The response to `POST /v1/requests`: the TNT rule's decision.
package struct DispatchResponse: Codable, Sendable, Hashable {
    package var status: TradeStatus
    /// The consumer's meter id (hex), when the record decoded.
    package var consumer: String?
    /// The request's sequence number, when the record decoded.
    package var sequence: UInt64?
    /// Energy requested, Wh.
    package var requestedWh: UInt64?
    /// The policy that decided: "lowest-tnt" or "split-tnt".
    package var policy: String?
    /// Who serves the request: one producer under the plain rule; several, in TNT order,
    /// under the split policy when no single producer can cover it. Empty when unserved.
    package var shares: [DispatchShareView]
    /// Height of the block the request and its dispatch will be sealed in.
    package var blockHeight: UInt64?
    /// Set for `unserved`, `rejected` and `retry`.
    package var reason: TradeReason?
    /// A sentence for people.
    package var detail: String?
    /// Set when the request, unserved here, was escalated to the super node: `result`
    /// `served` means `shares` names the remote producer of `escalation.producerGateway`.
    package var escalation: EscalationInfo?

    package init(
        status: TradeStatus,
        consumer: String? = nil,
        sequence: UInt64? = nil,
        requestedWh: UInt64? = nil,
        policy: String? = nil,
        shares: [DispatchShareView] = [],
        blockHeight: UInt64? = nil,
        reason: TradeReason? = nil,
        detail: String? = nil,
        escalation: EscalationInfo? = nil
    ) {
        self.escalation = escalation
        self.status = status
        self.consumer = consumer
        self.sequence = sequence
        self.requestedWh = requestedWh
        self.policy = policy
        self.shares = shares
        self.blockHeight = blockHeight
        self.reason = reason
        self.detail = detail
    }
}

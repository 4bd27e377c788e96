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

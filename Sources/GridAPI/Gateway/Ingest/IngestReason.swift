/// Why a record was rejected or deferred. Stable codes for scripts and metrics.
package enum IngestReason: String, Codable, Sendable, Hashable, CaseIterable {
    /// Not base64, not a signed envelope, or a body that does not decode.
    case malformed
    /// A record type meters may not send here.
    case wrongRecordType = "wrong-record-type"
    /// The signer is not enrolled with this gateway (ENIV).
    case unknownMeter = "unknown-meter"
    /// The signer was enrolled, then revoked.
    case revokedMeter = "revoked-meter"
    /// The signature does not match the exact bytes.
    case badSignature = "bad-signature"
    /// The envelope's signer is not the meter the reading names.
    case signerMismatch = "signer-mismatch"
    /// A later sequence number than the next expected one: earlier readings are missing.
    case sequenceGap = "sequence-gap"
    /// The same sequence number as an accepted reading, with other bytes (equivocation).
    case conflictingDuplicate = "conflicting-duplicate"
    /// The timestamp is outside the allowed clock skew, or before 2020.
    case timestampSkew = "timestamp-skew"
    /// A value no meter reports (a negative energy counter).
    case implausibleValue = "implausible-value"
    /// A reading addressed to another gateway (its signed bytes name that gateway's id):
    /// taken at another gateway and replayed here, or an agent that names the wrong gateway.
    case wrongGateway = "wrong-gateway"
    /// A reading of a version this gateway no longer takes (version 1, which names no
    /// gateway, after the gateway's transition date); signed again as version 2 it is taken.
    case retiredReadingVersion = "retired-reading-version"
    /// An OCMF commitment whose OCMF string is missing, malformed, or does not match it
    /// (hash, meter, pagination, period, or an ECDSA signature that does not verify with the
    /// committed key); or an OCMF string beside a record that is no commitment.
    case invalidOCMF = "invalid-ocmf"
    /// The gateway could not store it (disk, database); retry.
    case storage
}

import Foundation
import LedgerLite

/// The body of `POST /v1/readings`: signed records, each the exact envelope bytes of a
/// `SignedRecord` in base64. JSON is only the carrier: the gateway verifies and stores
/// the decoded bytes verbatim, never a re-encoding.
package struct IngestBatch: Codable, Sendable, Hashable {
    /// Base64 of each `SignedRecord.bytes`, in the order the agent produced them.
    package var records: [String]

    package init(records: [String]) {
        self.records = records
    }

    package init(signed: [SignedRecord]) {
        self.records = signed.map { Data($0.bytes).base64EncodedString() }
    }

    /// Most records one batch may carry; larger batches are refused whole (HTTP 413).
    package static let maxRecords = 1000
}

/// What the gateway did with one record of a batch.
package enum IngestStatus: String, Codable, Sendable, Hashable, CaseIterable {
    /// Stored durably (it will be sealed into a block).
    case accepted
    /// The identical record was accepted before; acknowledged again, not stored twice.
    case duplicate
    /// Not stored; `reason` says why. The agent must not retry it unchanged.
    case rejected
    /// Not stored this time for a reason on the gateway's side; retry later.
    case retry
}

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
    /// The timestamp is outside the allowed clock skew.
    case timestampSkew = "timestamp-skew"
    /// The gateway could not store it (disk, database); retry.
    case storage
}

/// The result for one record, in batch order.
package struct IngestResult: Codable, Sendable, Hashable {
    /// Position of the record in the batch.
    package var index: Int
    package var status: IngestStatus
    /// Meter id (hex) when the record could be decoded.
    package var meter: String?
    /// Sequence number when the record is a reading.
    package var sequence: UInt64?
    /// Set for `rejected` and `retry`.
    package var reason: IngestReason?
    /// A sentence for people (e.g. the sequence number expected).
    package var detail: String?

    package init(
        index: Int,
        status: IngestStatus,
        meter: String? = nil,
        sequence: UInt64? = nil,
        reason: IngestReason? = nil,
        detail: String? = nil
    ) {
        self.index = index
        self.status = status
        self.meter = meter
        self.sequence = sequence
        self.reason = reason
        self.detail = detail
    }

    /// True when the agent may delete the record from its outbox.
    package var isAcknowledged: Bool { status == .accepted || status == .duplicate }
}

/// The response to `POST /v1/readings`.
package struct IngestResponse: Codable, Sendable, Hashable {
    package var results: [IngestResult]

    package init(results: [IngestResult]) {
        self.results = results
    }
}

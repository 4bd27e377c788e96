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

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

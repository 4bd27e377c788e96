import LedgerLite

/// The gateways' audits held in memory: at most `capacity`, the least recently used one
/// dropped when another is needed. A dropped audit is restored from the store when its
/// gateway pushes or is asked about again (`GatewayAudit.restore`), so memory depends on
/// the capacity and each gateway's live state, never on how many gateways or blocks were
/// audited.
///
/// Only the store's writer queue adds or replaces audits (in the order its commits
/// happen), so an audit never goes back to an earlier block; any thread may read.
package struct ResidentAudits: Sendable {
    /// The most audits held at once (at least 1).
    package let capacity: Int
    private var audits: [GatewayID: Entry] = [:]
    private var uses: UInt64 = 0

    private struct Entry: Sendable {
        var audit: GatewayAudit
        var lastUse: UInt64
    }

    /// The default of `super-node serve --resident-audits`.
    package static let defaultCapacity = 256

    package init(capacity: Int = defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// How many audits are held now.
    package var count: Int { audits.count }

    /// `gateway`'s audit, if held, marked as just used.
    package mutating func use(_ gateway: GatewayID) -> GatewayAudit? {
        guard var entry = audits[gateway] else { return nil }
        uses += 1
        entry.lastUse = uses
        audits[gateway] = entry
        return entry.audit
    }

    /// `gateway`'s audit, if held, without marking it used.
    package func peek(_ gateway: GatewayID) -> GatewayAudit? {
        audits[gateway]?.audit
    }

    /// Holds `audit` as `gateway`'s, dropping the least recently used other audit when full.
    package mutating func keep(_ audit: GatewayAudit, for gateway: GatewayID) {
        uses += 1
        if audits[gateway] == nil, audits.count >= capacity,
            let oldest = audits.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            audits[oldest] = nil
        }
        audits[gateway] = Entry(audit: audit, lastUse: uses)
    }
}

import LedgerLite

/// One anomaly to write on the chain.
package struct AnomalyFinding: Sendable, Hashable {
    package var category: AnomalyCategory
    package var subject: MeterID
    package var evidence: Hash256
    package var detail: String

    package var kind: AnomalyKind { category.kind }
    /// The detail as written on the chain: `category: detail` (cut to the record's limit).
    package var chainDetail: String {
        var text = category.rawValue + ": " + detail
        while text.utf8.count > Anomaly.maxDetailBytes { text.removeLast() }
        return text
    }
}

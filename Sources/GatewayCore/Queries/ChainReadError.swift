import LedgerLite

/// Why a read-only view of a gateway's chain (the store replayed plus the pending journal)
/// could not be built.
package enum ChainReadError: Error, CustomStringConvertible {
    /// The journal could not be read.
    case journalUnreadable(path: String, underlying: String)
    /// A journal entry does not decode.
    case journalUndecodable(path: String, index: UInt64, underlying: String)
    /// The journal's entries do not continue the stored chain.
    case journalSkips(path: String, expected: UInt64, found: UInt64)
    /// A stored entry breaks the chain's rules on replay.
    case chainDoesNotReplay(height: UInt64, index: UInt64, RuleViolation)
    /// A journal entry breaks the chain's rules.
    case pendingBreaksRules(path: String, index: UInt64, RuleViolation)

    package var description: String {
        switch self {
        case let .journalUnreadable(path, underlying):
            return "cannot read the pending journal \(path): \(underlying)"
        case let .journalUndecodable(path, index, underlying):
            return
                "the pending journal \(path) holds an undecodable entry \(index): \(underlying); the gateway will refuse it at start-up too"
        case let .journalSkips(path, expected, found):
            return "the pending journal \(path) skips from entry \(expected) to \(found); it was edited or damaged"
        case let .chainDoesNotReplay(height, index, violation):
            return
                "the chain does not replay at block \(height), entry \(index): \(violation); run `edge-gateway verify`"
        case let .pendingBreaksRules(path, index, violation):
            return "pending entry \(index) in \(path) breaks the chain rules: \(violation)"
        }
    }
}

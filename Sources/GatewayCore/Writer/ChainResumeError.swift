import LedgerLite

/// Why the chain writer could not open or resume a data directory's chain. Each
/// description names the file and what the operator can do.
package enum ChainResumeError: Error, CustomStringConvertible {
    /// The chain store or the pending journal could not be opened.
    case storeUnavailable(directory: String, underlying: String)
    /// The stored chain fails verification.
    case chainDoesNotVerify(path: String, VerificationFailure)
    /// The data directory's key is not the key the chain was built with.
    case keyDoesNotMatchChain(BuilderError)
    /// The journal's entries do not continue the chain.
    case journalSkips(path: String, expected: UInt64, found: UInt64)
    /// A journal entry does not decode.
    case journalUndecodable(path: String, index: UInt64, underlying: String)
    /// A journal entry breaks the chain's rules.
    case journalRefused(path: String, index: UInt64, BuilderError)
    /// The store's resume snapshot disagrees with its chain (`what`): the store was edited
    /// or damaged. The gateway refuses to start rather than verify the chain silently.
    case snapshotDisagrees(path: String, String)
    /// What the configuration asks to put on the chain at start-up (`what`: "the dispatch
    /// policy", "the super node") could not be recorded.
    case cannotRecord(what: String, AdminError)

    package var description: String {
        switch self {
        case let .storeUnavailable(directory, underlying):
            return "cannot open the chain store in \(directory): \(underlying)"
        case let .chainDoesNotVerify(path, failure):
            return
                "the chain in \(path) does not verify: \(failure); run `edge-gateway verify` for details and restore the store from a copy"
        case let .keyDoesNotMatchChain(error):
            return "\(error); this data directory's key does not match its chain"
        case let .journalSkips(path, expected, found):
            return
                "the pending journal \(path) skips from entry \(expected) to \(found); it was edited or damaged. Move it away to start without the unsealed entries (they will be lost)"
        case let .journalUndecodable(path, index, underlying):
            return "the pending journal \(path) holds an undecodable entry \(index): \(underlying)"
        case let .journalRefused(path, index, error):
            return "the pending journal \(path) holds entry \(index) that the chain refuses: \(error)"
        case let .snapshotDisagrees(path, what):
            return
                "the resume snapshot in \(path) disagrees with the chain: \(what); the store was edited or damaged. Run `edge-gateway verify`: it checks every block and says whether they or only the snapshot are damaged (docs/OPERATIONS.md, Troubleshooting)"
        case let .cannotRecord(what, error):
            return "cannot record \(what) on the chain: \(error.description)"
        }
    }
}

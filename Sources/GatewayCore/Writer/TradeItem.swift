import LedgerLite

/// An offer or request on its way to the writer; `signatureValid` is nil when no key was
/// known for its author when the handler checked it.
package enum TradeItem: Sendable {
    case offer(SignedRecord, Offer, signatureValid: Bool?)
    case request(SignedRecord, EnergyRequest, signatureValid: Bool?)

    /// Checks the signature with the enrolled key, off the writer (on the caller's thread).
    package static func prepare(_ entry: SignedRecord, keys: KeyDirectory) -> TradeItem? {
        let valid = entry.record.meterAuthor.flatMap(keys.key(of:)).map { entry.isSignatureValid(by: $0) }
        switch entry.record {
        case let .offer(o): return .offer(entry, o, signatureValid: entry.signer == o.producer ? valid : nil)
        case let .request(q): return .request(entry, q, signatureValid: entry.signer == q.consumer ? valid : nil)
        default: return nil
        }
    }
}

extension TradeItem {
    /// The record type this item carries.
    package var type: RecordType {
        switch self {
        case .offer: return .offer
        case .request: return .request
        }
    }
}

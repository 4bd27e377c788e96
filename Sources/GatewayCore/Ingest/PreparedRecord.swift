import GridAPI
import LedgerLite

/// One record of a batch after decoding and the signature check, before the chain rules.
package struct PreparedRecord: Sendable {
    package enum Outcome: Sendable {
        /// Refused before the chain rules (malformed, wrong type).
        case rejected(IngestReason, String, meter: String?, sequence: UInt64?)
        /// A decoded reading; `signatureValid` is nil when no key was known for its meter
        /// (or the envelope names another signer), so nothing could be checked.
        case reading(SignedRecord, Reading, signatureValid: Bool?)
        /// A decoded OCMF commitment whose OCMF document matches it (hash, meter,
        /// pagination, period, ECDSA signature); `signatureValid` as for a reading.
        case ocmfCommitment(SignedRecord, OCMFCommitment, OCMFDocument, signatureValid: Bool?)
    }

    package var index: Int
    package var outcome: Outcome
}

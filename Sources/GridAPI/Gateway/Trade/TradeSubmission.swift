import Foundation
import LedgerLite

/// The body of `POST /v1/offers` and `POST /v1/requests`: one signed record (an `Offer`
/// or an `EnergyRequest`), the exact envelope bytes of a `SignedRecord` in base64.
/// As for readings, JSON only carries the bytes; the gateway stores them verbatim.
package struct TradeSubmission: Codable, Sendable, Hashable {
    /// Base64 of `SignedRecord.bytes`.
    package var record: String

    package init(record: String) {
        self.record = record
    }

    package init(signed: SignedRecord) {
        self.record = Data(signed.bytes).base64EncodedString()
    }
}

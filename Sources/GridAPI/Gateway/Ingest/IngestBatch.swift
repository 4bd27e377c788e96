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

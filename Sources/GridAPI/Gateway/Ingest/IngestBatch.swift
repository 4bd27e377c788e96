import Foundation
import LedgerLite

/// The body of `POST /v1/readings`: signed records, each the exact envelope bytes of a
/// `SignedRecord` in base64. JSON is only the carrier: the gateway verifies and stores
/// the decoded bytes verbatim, never a re-encoding.
package struct IngestBatch: Codable, Sendable, Hashable {
    /// Base64 of each `SignedRecord.bytes`, in the order the agent produced them.
    package var records: [String]
    /// The OCMF strings of the batch's OCMF commitments, by position: as long as `records`,
    /// the exact OCMF string whose SHA-256 the commitment at the same position names, and
    /// null for every other record. Absent when the batch holds no commitment.
    package var ocmf: [String?]?

    package init(records: [String], ocmf: [String?]? = nil) {
        self.records = records
        self.ocmf = ocmf
    }

    package init(signed: [SignedRecord]) {
        self.records = signed.map { Data($0.bytes).base64EncodedString() }
    }

    /// Most records one batch may carry; larger batches are refused whole (HTTP 413).
    package static let maxRecords = 1000
    /// Most OCMF commitments (with their OCMF strings) one batch may carry.
    package static let maxOCMFDocuments = 50
}

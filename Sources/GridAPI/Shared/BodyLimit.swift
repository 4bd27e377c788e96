import LedgerLite

/// The largest request body each endpoint accepts, sized from the largest valid request it
/// can carry (docs/GATEWAY.md and docs/SUPERNODE.md, "Limits"). A server refuses a larger
/// body with 413 as soon as it has read that much, before decoding anything.
package enum BodyLimit {
    /// Room for a JSON object's keys, quotes, commas and a client's whitespace.
    static let jsonOverhead = 1024

    /// Characters of the base64 text of `bytes` bytes.
    static func base64(_ bytes: Int) -> Int { (bytes + 2) / 3 * 4 }

    /// The JSON string of the base64 text of `bytes` bytes, quoted, with every character
    /// escaped at worst (Foundation's encoder writes each `/` as `\/`).
    static func jsonBase64(_ bytes: Int) -> Int { 2 * base64(bytes) + 2 }

    /// `POST /v1/readings`: `IngestBatch.maxRecords` of the largest signed reading (a version 2
    /// reading with every value), each a JSON string and a comma, and
    /// `IngestBatch.maxOCMFDocuments` OCMF strings of at most `OCMFDocument.maxTextBytes`, each
    /// escaped at worst, and a null for every other record: about 1.6 MB.
    package static let ingestBatch =
        IngestBatch.maxRecords * (jsonBase64(SignedRecord.envelopeBytes(body: Reading.maxEncodedBytes)) + 1)
        + IngestBatch.maxOCMFDocuments * (2 * OCMFDocument.maxTextBytes + 3)
        + IngestBatch.maxRecords * 5
        + jsonOverhead

    /// One signed record of any type in a JSON object: offers, requests, escalated dispatches,
    /// and the admin calls' key line (about 12 KB).
    package static let singleRecord = jsonBase64(SignedRecord.maxEnvelopeBytes) + jsonOverhead

    /// `POST /v1/admin/enrollments`: `AdminEnrollmentsRequest.maxKeys` key lines of at most
    /// `maxKeyLineCharacters`, each a JSON string escaped at worst and a comma: about 1 MB.
    package static let enrollments =
        AdminEnrollmentsRequest.maxKeys * (2 * AdminEnrollmentsRequest.maxKeyLineCharacters + 3) + jsonOverhead

    /// `POST /v1/escalations` at the super node: a certificate, a signed request and a key line,
    /// each smaller than the largest signed record.
    package static let escalation = 2 * singleRecord

    /// `POST /v1/blocks` at the super node: read only once the request's signed stamp verifies
    /// under a gateway key the super node certified, so only a gateway can make it read this
    /// much. An uplink pushes at most 4 MiB of blocks at a time (base64 adds a third), and one
    /// larger block alone: at `--seal-size`'s maximum of 10,000 entries, plus the anomalies and
    /// dispatches a last batch brings, a block stays well below this.
    package static let push = 32 << 20
}

import Foundation
import LedgerLite
import Synchronization

package enum IngestPreparation {
    /// Batches being prepared right now, across all requests.
    private static let inFlight = Atomic<Int>(0)

    /// Decodes and checks the signatures of a batch.
    ///
    /// When other batches are being prepared too, the batch is checked in one go on the
    /// calling task: every core already has a batch, and batches then finish one after
    /// another in arrival order and reach the writer as a steady stream. Splitting them
    /// all would interleave every batch's parts, finish them together, and leave the
    /// cores idle while the writer takes the whole lot at once. Only a batch alone is
    /// spread over the cores, for its latency.
    /// `ocmf` holds the OCMF string of each OCMF commitment at its position (nil elsewhere).
    package static func prepare(
        _ records: [String],
        ocmf: [String?] = [],
        keys: KeyDirectory
    ) async -> [PreparedRecord] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let concurrent = inFlight.add(1, ordering: .relaxed).newValue
        defer { inFlight.subtract(1, ordering: .relaxed) }
        let workers = concurrent > 1 ? 1 : min(cores, max(1, records.count / 8))
        if workers <= 1 {
            return records.indices.map {
                prepare(records[$0], ocmf: ocmf.indices.contains($0) ? ocmf[$0] : nil, index: $0, keys: keys)
            }
        }
        return await withTaskGroup(of: [PreparedRecord].self) { group in
            for w in 0..<workers {
                let range = (records.count * w / workers)..<(records.count * (w + 1) / workers)
                let slice = Array(records[range])
                let texts = range.map { ocmf.indices.contains($0) ? ocmf[$0] : nil }
                let start = range.lowerBound
                group.addTask {
                    slice.indices.map { prepare(slice[$0], ocmf: texts[$0], index: start + $0, keys: keys) }
                }
            }
            var all: [PreparedRecord] = []
            all.reserveCapacity(records.count)
            for await part in group { all += part }
            return all.sorted { $0.index < $1.index }
        }
    }

    package static func prepare(_ text: String, ocmf: String? = nil, index: Int, keys: KeyDirectory) -> PreparedRecord {
        guard let data = Data(base64Encoded: text) else {
            return PreparedRecord(
                index: index,
                outcome: .rejected(.malformed, "record \(index) is not valid base64", meter: nil, sequence: nil)
            )
        }
        let entry: SignedRecord
        do {
            entry = try SignedRecord(bytes: Array(data))
        } catch {
            return PreparedRecord(
                index: index,
                outcome: .rejected(
                    .malformed,
                    "record \(index) is not a signed record envelope: \(error)",
                    meter: nil,
                    sequence: nil
                )
            )
        }
        if case let .ocmfCommitment(commitment) = entry.record {
            return prepare(entry, commitment, ocmf: ocmf, index: index, keys: keys)
        }
        guard ocmf == nil else {
            return PreparedRecord(
                index: index,
                outcome: .rejected(
                    .invalidOCMF,
                    "record \(index) is a \(entry.record.type), not an OCMF commitment, but an OCMF string came with it",
                    meter: entry.record.meterAuthor?.hex ?? entry.signer.hex,
                    sequence: nil
                )
            )
        }
        guard case let .reading(reading) = entry.record else {
            return PreparedRecord(
                index: index,
                outcome: .rejected(
                    .wrongRecordType,
                    "only signed readings and OCMF commitments are accepted at /v1/readings; record \(index) is a \(entry.record.type)",
                    meter: entry.record.meterAuthor?.hex ?? entry.signer.hex,
                    sequence: nil
                )
            )
        }
        var valid: Bool?
        if entry.signer == reading.meter, let key = keys.key(of: reading.meter) {
            valid = entry.isSignatureValid(by: key)
        }
        return PreparedRecord(index: index, outcome: .reading(entry, reading, signatureValid: valid))
    }

    /// Checks an OCMF commitment's document: present, within its size limit, OCMF, and
    /// matching the commitment (hash, meter, pagination, period, ECDSA signature with the
    /// committed P-256 key). All of it is the commitment's own content, so it is checked
    /// here, off the writer; what the chain says (enrolled meter, next pagination) is the
    /// writer's.
    private static func prepare(
        _ entry: SignedRecord,
        _ commitment: OCMFCommitment,
        ocmf: String?,
        index: Int,
        keys: KeyDirectory
    ) -> PreparedRecord {
        func refuse(_ detail: String) -> PreparedRecord {
            PreparedRecord(
                index: index,
                outcome: .rejected(.invalidOCMF, detail, meter: commitment.meter.hex, sequence: commitment.pagination)
            )
        }
        guard let ocmf else {
            return refuse(
                "OCMF commitment T\(commitment.pagination) came without its OCMF string (the batch's ocmf array)"
            )
        }
        let document: OCMFDocument
        do { document = try OCMFDocument(parsing: ocmf) } catch {
            return refuse("the OCMF string of commitment T\(commitment.pagination) is refused: \(error)")
        }
        if let mismatch = document.mismatch(with: commitment) {
            return refuse("the OCMF string does not match commitment T\(commitment.pagination): \(mismatch)")
        }
        var valid: Bool?
        if entry.signer == commitment.meter, let key = keys.key(of: commitment.meter) {
            valid = entry.isSignatureValid(by: key)
        }
        return PreparedRecord(
            index: index,
            outcome: .ocmfCommitment(entry, commitment, document, signatureValid: valid)
        )
    }
}

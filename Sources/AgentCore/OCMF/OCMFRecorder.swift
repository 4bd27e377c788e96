import Crypto
import LedgerLite

/// Makes a meter's OCMF documents: one per settlement period (`OCMFPeriod`), signed with
/// the meter's P-256 key as its signing component, committed to by an `OCMFCommitment`
/// signed with the meter's Ed25519 key, and stored in the outbox with the next gap-free
/// pagination number. The agent is not a certified measuring instrument: the documents
/// are not conformant with calibration law (docs/SECURITY.md).
package struct OCMFRecorder: Sendable {
    /// The default settlement period: 15 minutes.
    package static let defaultPeriodMs: Int64 = 900_000
    /// `GI` of every document.
    package static let signingComponent = "GridLedger meter-agent"

    /// The meter's OCMF key.
    package let key: P256.Signing.PrivateKey
    /// The settlement period's length, ms (divides a day, so periods align to UTC midnight).
    package let periodMs: Int64

    package init(key: P256.Signing.PrivateKey, periodMs: Int64 = defaultPeriodMs) {
        self.key = key
        self.periodMs = periodMs
    }

    /// The counters of `reading` for a period, or nil when it has no import register (or
    /// a counter outside what a document carries).
    package static func point(of reading: Reading) -> OCMFPoint? {
        guard let imported = reading[.energyImportWh], (0...OCMFReading.maxValueWh).contains(imported) else {
            return nil
        }
        let exported = reading[.energyExportWh].flatMap { (0...OCMFReading.maxValueWh).contains($0) ? $0 : nil }
        let status = reading.status.contains(.tamper) ? "M" : reading.status.contains(.error) ? "E" : "G"
        return OCMFPoint(time: reading.timestamp, importWh: imported, exportWh: exported, status: status)
    }

    /// Feeds a stored reading of `meter`; when it finishes a settlement period, the period's
    /// document and commitment are signed and stored in `outbox`. Returns the commitment.
    package func record(
        _ reading: Reading,
        meter: SigningIdentity,
        gateway: GatewayID,
        outbox: Outbox
    ) async throws -> SignedRecord? {
        guard let point = Self.point(of: reading) else { return nil }
        return try await outbox.recordOCMF(meter: meter.id, point: point, periodMs: periodMs) { period, pagination in
            try self.sign(period, pagination: pagination, meter: meter, gateway: gateway)
        }
    }

    /// The OCMF string of `period` with `pagination`, and its commitment signed by `meter`.
    package func sign(
        _ period: FinishedOCMFPeriod,
        pagination: UInt64,
        meter: SigningIdentity,
        gateway: GatewayID
    ) throws -> (SignedRecord, String) {
        var readings: [OCMFReading] = []
        for (point, transaction) in [(period.begin, Character("B")), (period.last, Character("E"))] {
            let status = point.status.first ?? "G"
            readings.append(
                OCMFReading(
                    time: point.time,
                    transaction: transaction,
                    valueWh: point.importWh,
                    register: OCMFReading.importRegister,
                    status: status
                )
            )
            if let begin = period.begin.exportWh, period.last.exportWh != nil {
                readings.append(
                    OCMFReading(
                        time: point.time,
                        transaction: transaction,
                        valueWh: point.exportWh ?? begin,
                        register: OCMFReading.exportRegister,
                        status: status
                    )
                )
            }
        }
        let payload = OCMFPayload(
            gatewayIdentification: Self.signingComponent,
            pagination: pagination,
            meterSerial: meter.id.hex,
            readings: readings
        )
        let document = try OCMFDocument.sign(payload, with: key)
        let commitment = try OCMFCommitment(
            meter: meter.id,
            gateway: gateway,
            pagination: pagination,
            periodStart: period.start,
            periodEnd: period.end,
            ocmfPublicKey: Array(key.publicKey.x963Representation),
            ocmfHash: document.hash
        )
        return (try SignedRecord.sign(.ocmfCommitment(commitment), with: meter), document.text)
    }
}

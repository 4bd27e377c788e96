import Foundation
import GridAPI
import LedgerLite
import LedgerStore

// How the gateway shows its records in the API's views: the parts that need the key file
// format, the anomaly categories or the writer's meter table, which GridAPI does not know.

extension AnomalyView {
    package init(_ a: Anomaly) {
        self.init(
            kind: anomalyKindName(a.kind),
            category: AnomalyCategory.parse(detail: a.detail)?.rawValue,
            subject: a.subject.hex,
            evidenceHash: a.evidenceHash.hex,
            timestamp: a.timestamp,
            time: isoTime(a.timestamp),
            detail: a.detail
        )
    }
}

package func anomalyKindName(_ kind: AnomalyKind) -> String {
    switch kind {
    case .badSignature: return "bad-signature"
    case .sequenceGap: return "sequence-gap"
    case .replay: return "replay"
    case .unknownMeter: return "unknown-meter"
    case .tamperFlag: return "tamper-flag"
    case .implausibleValue: return "implausible-value"
    case .clockSkew: return "clock-skew"
    case .offerExceedsProduction: return "offer-exceeds-production"
    case .other: return "other"
    }
}

extension RecordView {
    package init(_ record: Record) {
        self.init(type: record.type.description)
        switch record {
        case let .reading(r): reading = ReadingView(r)
        case let .anomaly(a): anomaly = AnomalyView(a)
        case let .enrollment(e):
            enrollment = MembershipView(
                meter: e.meter.hex,
                publicKey: KeyFile.publicKeyLine(e.meterKey),
                role: e.role.description,
                timestamp: e.timestamp
            )
        case let .revocation(r):
            revocation = MembershipView(
                meter: r.meter.hex,
                publicKey: KeyFile.publicKeyLine(r.meterKey),
                role: r.role.description,
                timestamp: r.timestamp
            )
        case let .escalation(e): escalation = EscalationRecordView(e)
        case let .authority(a):
            authority = AuthorityRecordView(
                rootKey: KeyFile.publicKeyLine(a.rootKey),
                rootID: a.rootKey.id.hex,
                certificateSerial: a.certificate.certificate.serial,
                certificateName: a.certificate.certificate.name,
                timestamp: a.timestamp
            )
        case let .ocmfCommitment(c):
            ocmfCommitment = OCMFCommitmentView(
                meter: c.meter.hex,
                gateway: c.gateway.hex,
                pagination: c.pagination,
                periodStart: c.periodStart,
                periodEnd: c.periodEnd,
                publicKey: OCMFKeyFile.publicKeyHex(c.signingKey),
                ocmfHash: c.ocmfHash.hex
            )
        default: break
        }
    }
}

extension EntryView {
    package init(index: UInt64, height: UInt64?, entry: SignedRecord) {
        self.init(
            index: index,
            height: height,
            signer: entry.signer.hex,
            bytes: Data(entry.bytes).base64EncodedString(),
            record: RecordView(entry.record)
        )
    }
}

extension BlockView {
    package init(_ block: Block) {
        let first = block.firstEntryIndex
        self.init(
            header: HeaderView(block.header),
            signedHeader: Data(block.header.bytes).base64EncodedString(),
            entries: block.entries.enumerated().map {
                EntryView(index: first + UInt64($0.offset), height: block.height, entry: $0.element)
            }
        )
    }
}

extension MeterView {
    package init(id: MeterID, info: MeterInfo, lastSequence: UInt64) {
        self.init(
            id: id.hex,
            publicKey: KeyFile.publicKeyLine(info.key),
            role: info.role.description,
            active: info.active,
            lastSequence: lastSequence,
            lastReadingTimestamp: info.lastReading?.timestamp,
            lastReadingTime: info.lastReading.map { isoTime($0.timestamp) },
            enrolledAt: info.enrolledAt
        )
    }
}

extension CheckpointEntryView {
    package init(_ row: CheckpointStore.Row) {
        self.init(row.checkpoint)
    }
}

import Foundation
import LedgerLite

/// JSON views of chain data for the HTTP API and `inspect --json`. Views are for people
/// and scripts; the signed bytes travel alongside in base64 where they matter.

struct HeaderView: Codable, Sendable {
    var height: UInt64
    var hash: String
    var previousHash: String
    var merkleRoot: String
    var treeSize: UInt64
    var entryCount: UInt32
    var firstTimestamp: Int64
    var lastTimestamp: Int64
    var stateDigest: String
    var gateway: String

    init(_ signed: SignedBlockHeader) {
        let h = signed.header
        height = h.height
        hash = signed.hash.hex
        previousHash = h.previousHash.hex
        merkleRoot = h.merkleRoot.hex
        treeSize = h.treeSize
        entryCount = h.entryCount
        firstTimestamp = h.firstTimestamp
        lastTimestamp = h.lastTimestamp
        stateDigest = h.stateDigest.hex
        gateway = h.gateway.hex
    }
}

struct ReadingView: Codable, Sendable {
    var meter: String
    var sequence: UInt64
    var timestamp: Int64
    var time: String
    var tamper: Bool
    var error: Bool
    var values: [String: Int64]

    init(_ r: Reading) {
        meter = r.meter.hex
        sequence = r.sequence
        timestamp = r.timestamp
        time = isoTime(r.timestamp)
        tamper = r.status.contains(.tamper)
        error = r.status.contains(.error)
        values = Dictionary(uniqueKeysWithValues: r.values.map { ($0.measurand.description, $0.value) })
    }
}

struct AnomalyView: Codable, Sendable {
    var kind: String
    var category: String?
    var subject: String
    var evidenceHash: String
    var timestamp: Int64
    var time: String
    var detail: String

    init(_ a: Anomaly) {
        kind = anomalyKindName(a.kind)
        category = AnomalyCategory.parse(detail: a.detail)?.rawValue
        subject = a.subject.hex
        evidenceHash = a.evidenceHash.hex
        timestamp = a.timestamp
        time = isoTime(a.timestamp)
        detail = a.detail
    }
}

func anomalyKindName(_ kind: AnomalyKind) -> String {
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

struct MembershipView: Codable, Sendable {
    var meter: String
    var publicKey: String
    var role: String
    var timestamp: Int64
}

/// An escalation record: which side, and the super node's decision it carries.
struct EscalationRecordView: Codable, Sendable {
    /// `consumer` (this gateway's consumer was served remotely) or `producer`.
    var side: String
    var decisionID: UInt64
    var consumerGateway: String
    var consumer: String
    var requestSequence: UInt64
    var energyWh: UInt64
    var producerGateway: String
    var producer: String
    /// Producer side: the producer's TNT before.
    var producerTNTBefore: UInt64?
    var decidedAt: Int64
    var issuer: String

    init(_ e: Escalation) {
        let d = e.decision.decision
        side = e.role.description
        decisionID = d.decisionID
        consumerGateway = d.consumerGateway.hex
        consumer = d.consumer.hex
        requestSequence = d.requestSequence
        energyWh = d.energyWh
        producerGateway = d.producerGateway.hex
        producer = d.producer.hex
        producerTNTBefore = e.role == .producer ? e.producerTNTBefore : nil
        decidedAt = d.decidedAt
        issuer = d.issuer.hex
    }
}

/// An authority record: the super node this gateway answers to.
struct AuthorityRecordView: Codable, Sendable {
    var rootKey: String
    var rootID: String
    var certificateSerial: UInt64
    var certificateName: String
    var timestamp: Int64
}

/// A decoded record: `type` plus the fields of that type.
struct RecordView: Codable, Sendable {
    var type: String
    var reading: ReadingView?
    var anomaly: AnomalyView?
    var enrollment: MembershipView?
    var revocation: MembershipView?
    var escalation: EscalationRecordView?
    var authority: AuthorityRecordView?

    init(_ record: Record) {
        type = record.type.description
        switch record {
        case let .reading(r): reading = ReadingView(r)
        case let .anomaly(a): anomaly = AnomalyView(a)
        case let .enrollment(e):
            enrollment = MembershipView(meter: e.meter.hex, publicKey: KeyFile.publicKeyLine(e.meterKey), role: e.role.description, timestamp: e.timestamp)
        case let .revocation(r):
            revocation = MembershipView(meter: r.meter.hex, publicKey: KeyFile.publicKeyLine(r.meterKey), role: r.role.description, timestamp: r.timestamp)
        case let .escalation(e): escalation = EscalationRecordView(e)
        case let .authority(a):
            authority = AuthorityRecordView(rootKey: KeyFile.publicKeyLine(a.rootKey), rootID: a.rootKey.id.hex, certificateSerial: a.certificate.certificate.serial,
                                            certificateName: a.certificate.certificate.name, timestamp: a.timestamp)
        default: break
        }
    }
}

struct EntryView: Codable, Sendable {
    /// Global entry index (the Merkle leaf index).
    var index: UInt64
    /// Block height; nil while pending.
    var height: UInt64?
    var signer: String
    /// The envelope bytes, verbatim, in base64.
    var bytes: String
    var record: RecordView

    init(index: UInt64, height: UInt64?, entry: SignedRecord) {
        self.index = index
        self.height = height
        signer = entry.signer.hex
        bytes = Data(entry.bytes).base64EncodedString()
        record = RecordView(entry.record)
    }
}

struct BlockView: Codable, Sendable {
    var header: HeaderView
    /// The 214 signed header bytes, base64.
    var signedHeader: String
    var entries: [EntryView]

    init(_ block: Block) {
        header = HeaderView(block.header)
        signedHeader = Data(block.header.bytes).base64EncodedString()
        let first = block.firstEntryIndex
        entries = block.entries.enumerated().map { EntryView(index: first + UInt64($0.offset), height: block.height, entry: $0.element) }
    }
}

struct BlockListView: Codable, Sendable {
    var blocks: [HeaderView]
    /// Height of the latest block; nil for an empty chain.
    var tip: UInt64?
    /// `from` for the next page; nil at the end.
    var next: UInt64?
}

struct MeterView: Codable, Sendable {
    var id: String
    var publicKey: String
    var role: String
    var active: Bool
    /// Last accepted sequence (0 when none).
    var lastSequence: UInt64
    var lastReadingTimestamp: Int64?
    var lastReadingTime: String?
    var enrolledAt: Int64

    init(id: MeterID, info: MeterInfo, lastSequence: UInt64) {
        self.id = id.hex
        publicKey = KeyFile.publicKeyLine(info.key)
        role = info.role.description
        active = info.active
        self.lastSequence = lastSequence
        lastReadingTimestamp = info.lastReading?.timestamp
        lastReadingTime = info.lastReading.map { isoTime($0.timestamp) }
        enrolledAt = info.enrolledAt
    }
}

struct MeterReadingsView: Codable, Sendable {
    var meter: String
    var from: Int64
    var until: Int64
    var readings: [StoredReadingView]
}

struct StoredReadingView: Codable, Sendable {
    var index: UInt64
    /// nil while the reading is accepted but not yet sealed.
    var height: UInt64?
    var sealed: Bool
    var reading: ReadingView
}

struct AnomalyEntryView: Codable, Sendable {
    var index: UInt64
    var height: UInt64?
    var sealed: Bool
    var anomaly: AnomalyView
}

struct AnomalyListView: Codable, Sendable {
    var anomalies: [AnomalyEntryView]
    var next: UInt64?
}

/// Everything a meter owner needs to prove offline that a reading is on the chain:
/// the record bytes, the signed block header, and the Merkle inclusion proof against the
/// header's root (check the header's signature with the gateway key, then the proof).
struct ReceiptView: Codable, Sendable {
    var meter: String
    var sequence: UInt64
    /// The signed reading envelope, verbatim, base64.
    var record: String
    var entryIndex: UInt64
    /// SHA-256(0x00 ‖ record bytes), hex.
    var leafHash: String
    var block: ReceiptBlock
    var proof: ProofView
    /// The gateway's public key, `ed25519 <base64>`.
    var gatewayKey: String
    var reading: ReadingView
    /// The super node's checkpoint of the block holding the reading; absent until the
    /// block is checkpointed (then `checkpointed` is false).
    var checkpoint: CheckpointEntryView? = nil
    /// Whether `checkpoint` is present.
    var checkpointed: Bool? = nil

    struct ReceiptBlock: Codable, Sendable {
        var height: UInt64
        /// The 214 signed header bytes (150 header + 64 signature), base64.
        var signedHeader: String
        var header: HeaderView
    }
}

/// A stored checkpoint (receipts, `inspect checkpoints`); `checkpoint` carries the signed bytes.
struct CheckpointEntryView: Codable, Sendable {
    var gateway: String
    var height: UInt64
    var blockHash: String
    var merkleRoot: String
    var treeSize: UInt64
    var certificateSerial: UInt64
    /// Id of the root key that signed it.
    var issuer: String
    /// When the super node accepted the block, ms UTC, and as ISO 8601.
    var checkpointedAt: Int64
    var checkpointedTime: String
    /// The signed checkpoint (194 bytes), base64.
    var checkpoint: String

    init(_ row: CheckpointStore.Row) {
        self.init(row.checkpoint)
    }

    init(_ signed: SignedCheckpoint) {
        let c = signed.checkpoint
        gateway = c.gateway.hex
        height = c.height
        blockHash = c.blockHash.hex
        merkleRoot = c.merkleRoot.hex
        treeSize = c.treeSize
        certificateSerial = c.certificateSerial
        issuer = c.issuer.hex
        checkpointedAt = c.checkpointedAt
        checkpointedTime = isoTime(c.checkpointedAt)
        checkpoint = Data(signed.bytes).base64EncodedString()
    }
}

struct ProofView: Codable, Sendable {
    var leafIndex: UInt64
    var treeSize: UInt64
    /// Sibling hashes from the leaf upwards, hex.
    var path: [String]

    init(_ p: InclusionProof) {
        leafIndex = p.leafIndex
        treeSize = p.treeSize
        path = p.path.map(\.hex)
    }

    var proof: InclusionProof? {
        let hashes = path.compactMap(Hash256.init(hex:))
        guard hashes.count == path.count else { return nil }
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, path: hashes)
    }
}

struct ErrorView: Codable, Sendable {
    var error: String
}

struct AdminKeyRequest: Codable, Sendable {
    /// `ed25519 <base64> [comment]`, the meter's .pub line.
    var publicKey: String?
    /// Meter id (hex), an alternative to `publicKey` for revocation.
    var meter: String?
    /// `consumer` (default) or `producer`.
    var role: String?
}

struct AdminResponse: Codable, Sendable {
    var meter: String
    var role: String
    var action: String
    /// The enrollment or revocation entry, base64.
    var entry: String
}

/// ISO 8601 in UTC with milliseconds, exact: the milliseconds are written from the integer
/// (a Double of seconds since 1970 cannot hold every millisecond, and the formatter truncates).
func isoTime(_ ms: Int64) -> String {
    let (q, r) = ms.quotientAndRemainder(dividingBy: 1000)
    let seconds = r < 0 ? q - 1 : q
    let millis = r < 0 ? r + 1000 : r
    let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
    let digits = String(millis)
    return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
}

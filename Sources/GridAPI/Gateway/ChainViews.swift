import Foundation
import LedgerLite

/// JSON views of chain data for the HTTP API and `inspect --json`. Views are for people
/// and scripts; the signed bytes travel alongside in base64 where they matter.

package struct HeaderView: Codable, Sendable {
    package var height: UInt64
    package var hash: String
    package var previousHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var entryCount: UInt32
    package var firstTimestamp: Int64
    package var lastTimestamp: Int64
    package var stateDigest: String
    package var gateway: String

    package init(_ signed: SignedBlockHeader) {
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

package struct ReadingView: Codable, Sendable {
    package var meter: String
    package var sequence: UInt64
    package var timestamp: Int64
    package var time: String
    package var tamper: Bool
    package var error: Bool
    package var values: [String: Int64]

    package init(_ r: Reading) {
        meter = r.meter.hex
        sequence = r.sequence
        timestamp = r.timestamp
        time = isoTime(r.timestamp)
        tamper = r.status.contains(.tamper)
        error = r.status.contains(.error)
        values = Dictionary(uniqueKeysWithValues: r.values.map { ($0.measurand.description, $0.value) })
    }
}

package struct AnomalyView: Codable, Sendable {
    package var kind: String
    package var category: String?
    package var subject: String
    package var evidenceHash: String
    package var timestamp: Int64
    package var time: String
    package var detail: String

    package init(
        kind: String,
        category: String? = nil,
        subject: String,
        evidenceHash: String,
        timestamp: Int64,
        time: String,
        detail: String
    ) {
        self.kind = kind
        self.category = category
        self.subject = subject
        self.evidenceHash = evidenceHash
        self.timestamp = timestamp
        self.time = time
        self.detail = detail
    }
}

package struct MembershipView: Codable, Sendable {
    package var meter: String
    package var publicKey: String
    package var role: String
    package var timestamp: Int64

    package init(
        meter: String,
        publicKey: String,
        role: String,
        timestamp: Int64
    ) {
        self.meter = meter
        self.publicKey = publicKey
        self.role = role
        self.timestamp = timestamp
    }
}

/// An escalation record: which side, and the super node's decision it carries.
package struct EscalationRecordView: Codable, Sendable {
    /// `consumer` (this gateway's consumer was served remotely) or `producer`.
    package var side: String
    package var decisionID: UInt64
    package var consumerGateway: String
    package var consumer: String
    package var requestSequence: UInt64
    package var energyWh: UInt64
    package var producerGateway: String
    package var producer: String
    /// Producer side: the producer's TNT before.
    package var producerTNTBefore: UInt64?
    package var decidedAt: Int64
    package var issuer: String

    package init(_ e: Escalation) {
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
package struct AuthorityRecordView: Codable, Sendable {
    package var rootKey: String
    package var rootID: String
    package var certificateSerial: UInt64
    package var certificateName: String
    package var timestamp: Int64

    package init(
        rootKey: String,
        rootID: String,
        certificateSerial: UInt64,
        certificateName: String,
        timestamp: Int64
    ) {
        self.rootKey = rootKey
        self.rootID = rootID
        self.certificateSerial = certificateSerial
        self.certificateName = certificateName
        self.timestamp = timestamp
    }
}

/// A decoded record: `type` plus the fields of that type.
package struct RecordView: Codable, Sendable {
    package var type: String
    package var reading: ReadingView?
    package var anomaly: AnomalyView?
    package var enrollment: MembershipView?
    package var revocation: MembershipView?
    package var escalation: EscalationRecordView?
    package var authority: AuthorityRecordView?

    package init(
        type: String,
        reading: ReadingView? = nil,
        anomaly: AnomalyView? = nil,
        enrollment: MembershipView? = nil,
        revocation: MembershipView? = nil,
        escalation: EscalationRecordView? = nil,
        authority: AuthorityRecordView? = nil
    ) {
        self.type = type
        self.reading = reading
        self.anomaly = anomaly
        self.enrollment = enrollment
        self.revocation = revocation
        self.escalation = escalation
        self.authority = authority
    }
}

package struct EntryView: Codable, Sendable {
    /// Global entry index (the Merkle leaf index).
    package var index: UInt64
    /// Block height; nil while pending.
    package var height: UInt64?
    package var signer: String
    /// The envelope bytes, verbatim, in base64.
    package var bytes: String
    package var record: RecordView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        signer: String,
        bytes: String,
        record: RecordView
    ) {
        self.index = index
        self.height = height
        self.signer = signer
        self.bytes = bytes
        self.record = record
    }
}

package struct BlockView: Codable, Sendable {
    package var header: HeaderView
    /// The 214 signed header bytes, base64.
    package var signedHeader: String
    package var entries: [EntryView]

    package init(
        header: HeaderView,
        signedHeader: String,
        entries: [EntryView]
    ) {
        self.header = header
        self.signedHeader = signedHeader
        self.entries = entries
    }
}

package struct BlockListView: Codable, Sendable {
    package var blocks: [HeaderView]
    /// Height of the latest block; nil for an empty chain.
    package var tip: UInt64?
    /// `from` for the next page; nil at the end.
    package var next: UInt64?

    package init(
        blocks: [HeaderView],
        tip: UInt64? = nil,
        next: UInt64? = nil
    ) {
        self.blocks = blocks
        self.tip = tip
        self.next = next
    }
}

package struct MeterView: Codable, Sendable {
    package var id: String
    package var publicKey: String
    package var role: String
    package var active: Bool
    /// Last accepted sequence (0 when none).
    package var lastSequence: UInt64
    package var lastReadingTimestamp: Int64?
    package var lastReadingTime: String?
    package var enrolledAt: Int64

    package init(
        id: String,
        publicKey: String,
        role: String,
        active: Bool,
        lastSequence: UInt64,
        lastReadingTimestamp: Int64? = nil,
        lastReadingTime: String? = nil,
        enrolledAt: Int64
    ) {
        self.id = id
        self.publicKey = publicKey
        self.role = role
        self.active = active
        self.lastSequence = lastSequence
        self.lastReadingTimestamp = lastReadingTimestamp
        self.lastReadingTime = lastReadingTime
        self.enrolledAt = enrolledAt
    }
}

package struct MeterReadingsView: Codable, Sendable {
    package var meter: String
    package var from: Int64
    package var until: Int64
    package var readings: [StoredReadingView]

    package init(
        meter: String,
        from: Int64,
        until: Int64,
        readings: [StoredReadingView]
    ) {
        self.meter = meter
        self.from = from
        self.until = until
        self.readings = readings
    }
}

package struct StoredReadingView: Codable, Sendable {
    package var index: UInt64
    /// nil while the reading is accepted but not yet sealed.
    package var height: UInt64?
    package var sealed: Bool
    package var reading: ReadingView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        sealed: Bool,
        reading: ReadingView
    ) {
        self.index = index
        self.height = height
        self.sealed = sealed
        self.reading = reading
    }
}

package struct AnomalyEntryView: Codable, Sendable {
    package var index: UInt64
    package var height: UInt64?
    package var sealed: Bool
    package var anomaly: AnomalyView

    package init(
        index: UInt64,
        height: UInt64? = nil,
        sealed: Bool,
        anomaly: AnomalyView
    ) {
        self.index = index
        self.height = height
        self.sealed = sealed
        self.anomaly = anomaly
    }
}

package struct AnomalyListView: Codable, Sendable {
    package var anomalies: [AnomalyEntryView]
    package var next: UInt64?

    package init(
        anomalies: [AnomalyEntryView],
        next: UInt64? = nil
    ) {
        self.anomalies = anomalies
        self.next = next
    }
}

/// Everything a meter owner needs to prove offline that a reading is on the chain:
/// the record bytes, the signed block header, and the Merkle inclusion proof against the
/// header's root (check the header's signature with the gateway key, then the proof).
package struct ReceiptView: Codable, Sendable {
    package var meter: String
    package var sequence: UInt64
    /// The signed reading envelope, verbatim, base64.
    package var record: String
    package var entryIndex: UInt64
    /// SHA-256(0x00 ‖ record bytes), hex.
    package var leafHash: String
    package var block: ReceiptBlock
    package var proof: ProofView
    /// The gateway's public key, `ed25519 <base64>`.
    package var gatewayKey: String
    package var reading: ReadingView
    /// The super node's checkpoint of the block holding the reading; absent until the
    /// block is checkpointed (then `checkpointed` is false).
    package var checkpoint: CheckpointEntryView? = nil
    /// Whether `checkpoint` is present.
    package var checkpointed: Bool? = nil

    package struct ReceiptBlock: Codable, Sendable {
        package var height: UInt64
        /// The 214 signed header bytes (150 header + 64 signature), base64.
        package var signedHeader: String
        package var header: HeaderView

        package init(
            height: UInt64,
            signedHeader: String,
            header: HeaderView
        ) {
            self.height = height
            self.signedHeader = signedHeader
            self.header = header
        }
    }

    package init(
        meter: String,
        sequence: UInt64,
        record: String,
        entryIndex: UInt64,
        leafHash: String,
        block: ReceiptBlock,
        proof: ProofView,
        gatewayKey: String,
        reading: ReadingView,
        checkpoint: CheckpointEntryView? = nil,
        checkpointed: Bool? = nil
    ) {
        self.meter = meter
        self.sequence = sequence
        self.record = record
        self.entryIndex = entryIndex
        self.leafHash = leafHash
        self.block = block
        self.proof = proof
        self.gatewayKey = gatewayKey
        self.reading = reading
        self.checkpoint = checkpoint
        self.checkpointed = checkpointed
    }
}

/// A stored checkpoint (receipts, `inspect checkpoints`); `checkpoint` carries the signed bytes.
package struct CheckpointEntryView: Codable, Sendable {
    package var gateway: String
    package var height: UInt64
    package var blockHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var certificateSerial: UInt64
    /// Id of the root key that signed it.
    package var issuer: String
    /// When the super node accepted the block, ms UTC, and as ISO 8601.
    package var checkpointedAt: Int64
    package var checkpointedTime: String
    /// The signed checkpoint (194 bytes), base64.
    package var checkpoint: String

    package init(_ signed: SignedCheckpoint) {
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

package struct ProofView: Codable, Sendable {
    package var leafIndex: UInt64
    package var treeSize: UInt64
    /// Sibling hashes from the leaf upwards, hex.
    package var path: [String]

    package init(_ p: InclusionProof) {
        leafIndex = p.leafIndex
        treeSize = p.treeSize
        path = p.path.map(\.hex)
    }

    package var proof: InclusionProof? {
        let hashes = path.compactMap(Hash256.init(hex:))
        guard hashes.count == path.count else { return nil }
        return InclusionProof(leafIndex: leafIndex, treeSize: treeSize, path: hashes)
    }
}

package struct ErrorView: Codable, Sendable {
    package var error: String

    package init(
        error: String
    ) {
        self.error = error
    }
}

package struct AdminKeyRequest: Codable, Sendable {
    /// `ed25519 <base64> [comment]`, the meter's .pub line.
    package var publicKey: String?
    /// Meter id (hex), an alternative to `publicKey` for revocation.
    package var meter: String?
    /// `consumer` (default) or `producer`.
    package var role: String?

    package init(publicKey: String? = nil, meter: String? = nil, role: String? = nil) {
        self.publicKey = publicKey
        self.meter = meter
        self.role = role
    }
}

package struct AdminResponse: Codable, Sendable {
    package var meter: String
    package var role: String
    package var action: String
    /// The enrollment or revocation entry, base64.
    package var entry: String

    package init(
        meter: String,
        role: String,
        action: String,
        entry: String
    ) {
        self.meter = meter
        self.role = role
        self.action = action
        self.entry = entry
    }
}

/// ISO 8601 in UTC with milliseconds, exact: the milliseconds are written from the integer
/// (a Double of seconds since 1970 cannot hold every millisecond, and the formatter truncates).
package func isoTime(_ ms: Int64) -> String {
    let (q, r) = ms.quotientAndRemainder(dividingBy: 1000)
    let seconds = r < 0 ? q - 1 : q
    let millis = r < 0 ? r + 1000 : r
    let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
    let digits = String(millis)
    return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
}

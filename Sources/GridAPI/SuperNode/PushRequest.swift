import Foundation
import LedgerLite

/// `POST /v1/blocks` body.
package struct PushRequest: Codable, Sendable {
    /// The gateway's signed certificate, base64.
    package var certificate: String?
    /// The gateway's base URL, where the super node reaches it (escalated dispatches);
    /// optional, `http://` or `https://`.
    package var gatewayURL: String?
    /// Blocks in their wire encoding (docs/FORMATS.md, "Block on the wire"), base64, in height order.
    package var blocks: [String]

    package init(
        certificate: String? = nil,
        gatewayURL: String? = nil,
        blocks: [String]
    ) {
        self.certificate = certificate
        self.gatewayURL = gatewayURL
        self.blocks = blocks
    }
}

/// A checkpoint as JSON; `checkpoint` carries the signed bytes.
package struct CheckpointView: Codable, Sendable, Equatable {
    package var gateway: String
    package var height: UInt64
    package var blockHash: String
    package var merkleRoot: String
    package var treeSize: UInt64
    package var certificateSerial: UInt64
    package var checkpointedAt: Int64
    /// The signed checkpoint (194 bytes), base64.
    package var checkpoint: String
    /// True when the block had been accepted before (the stored checkpoint is returned).
    package var replayed: Bool?

    package init(_ signed: SignedCheckpoint, replayed: Bool? = nil) {
        let c = signed.checkpoint
        gateway = c.gateway.hex
        height = c.height
        blockHash = c.blockHash.hex
        merkleRoot = c.merkleRoot.hex
        treeSize = c.treeSize
        certificateSerial = c.certificateSerial
        checkpointedAt = c.checkpointedAt
        checkpoint = Data(signed.bytes).base64EncodedString()
        self.replayed = replayed
    }
}

/// A refusal as JSON.
package struct RejectionView: Codable, Sendable, Equatable {
    package var reason: String
    package var message: String
    package var index: Int?
    package var height: UInt64?
    /// For `gap`: the height the super node expects next.
    package var expectedHeight: UInt64?

    package init(
        reason: String,
        message: String,
        index: Int? = nil,
        height: UInt64? = nil,
        expectedHeight: UInt64? = nil
    ) {
        self.reason = reason
        self.message = message
        self.index = index
        self.height = height
        self.expectedHeight = expectedHeight
    }
}

/// A value flag as JSON (docs/SUPERNODE.md, "Value verification").
package struct ValueFlagView: Codable, Sendable, Equatable {
    package var gateway: String
    package var height: UInt64
    package var producer: String
    /// The producer's cumulative energy dispatched on the chain after the block, Wh.
    package var dispatchedWh: UInt64
    /// The producer's cumulative metered export on the chain after the block, Wh.
    package var exportedWh: UInt64
    /// The super node's `--value-tolerance-wh` when it was raised.
    package var toleranceWh: UInt64
    /// The offer tolerance the chain's own policy declared.
    package var chainToleranceWh: UInt64
    package var flaggedAt: Int64

    package init(
        gateway: String,
        height: UInt64,
        producer: String,
        dispatchedWh: UInt64,
        exportedWh: UInt64,
        toleranceWh: UInt64,
        chainToleranceWh: UInt64,
        flaggedAt: Int64
    ) {
        self.gateway = gateway
        self.height = height
        self.producer = producer
        self.dispatchedWh = dispatchedWh
        self.exportedWh = exportedWh
        self.toleranceWh = toleranceWh
        self.chainToleranceWh = chainToleranceWh
        self.flaggedAt = flaggedAt
    }
}

/// `POST /v1/blocks` answer.
package struct PushResponse: Codable, Sendable {
    package var checkpoints: [CheckpointView]
    /// The value flags the accepted blocks raised (replays raise none).
    package var flags: [ValueFlagView] = []
    package var rejected: RejectionView?

    package init(checkpoints: [CheckpointView], flags: [ValueFlagView] = [], rejected: RejectionView?) {
        self.checkpoints = checkpoints
        self.flags = flags
        self.rejected = rejected
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        checkpoints = try c.decode([CheckpointView].self, forKey: .checkpoints)
        flags = try c.decodeIfPresent([ValueFlagView].self, forKey: .flags) ?? []
        rejected = try c.decodeIfPresent(RejectionView.self, forKey: .rejected)
    }
}

/// `GET /v1/flags` answer.
package struct ValueFlagListView: Codable, Sendable {
    package var flags: [ValueFlagView]

    package init(
        flags: [ValueFlagView]
    ) {
        self.flags = flags
    }
}

/// `GET /v1/gateways` answer.
package struct GatewayListView: Codable, Sendable {
    package var gateways: [GatewayView]

    package init(
        gateways: [GatewayView]
    ) {
        self.gateways = gateways
    }
}

package struct GatewayView: Codable, Sendable {
    package struct CertificateView: Codable, Sendable {
        package var serial: UInt64
        package var name: String
        package var issuedAt: Int64
        package var revoked: Bool
        package var revokedAt: Int64?

        package init(
            serial: UInt64,
            name: String,
            issuedAt: Int64,
            revoked: Bool,
            revokedAt: Int64? = nil
        ) {
            self.serial = serial
            self.name = name
            self.issuedAt = issuedAt
            self.revoked = revoked
            self.revokedAt = revokedAt
        }
    }

    package var gateway: String
    package var publicKey: String
    package var name: String
    /// True when none of its certificates is still valid.
    package var revoked: Bool
    package var certificates: [CertificateView]
    /// Height of the last audited block; nil before the first.
    package var auditedHeight: UInt64?
    package var auditedTreeSize: UInt64?
    package var auditedBlockHash: String?
    /// The base URL it last announced in a push.
    package var url: String?
    /// True while the value verification has it suspended (until `super-node reinstate`).
    package var suspended: Bool = false
    /// When the suspension in force began.
    package var suspendedAt: Int64?
    /// Value-flagged blocks since its last reinstatement (what `--suspend-after` counts).
    package var valueFlags: Int = 0
    /// Value-flagged blocks in all.
    package var valueFlagsTotal: Int = 0

    package init(
        gateway: String,
        publicKey: String,
        name: String,
        revoked: Bool,
        certificates: [CertificateView],
        auditedHeight: UInt64? = nil,
        auditedTreeSize: UInt64? = nil,
        auditedBlockHash: String? = nil,
        url: String? = nil,
        suspended: Bool = false,
        suspendedAt: Int64? = nil,
        valueFlags: Int = 0,
        valueFlagsTotal: Int = 0
    ) {
        self.gateway = gateway
        self.publicKey = publicKey
        self.name = name
        self.revoked = revoked
        self.certificates = certificates
        self.auditedHeight = auditedHeight
        self.auditedTreeSize = auditedTreeSize
        self.auditedBlockHash = auditedBlockHash
        self.url = url
        self.suspended = suspended
        self.suspendedAt = suspendedAt
        self.valueFlags = valueFlags
        self.valueFlagsTotal = valueFlagsTotal
    }
}

/// `GET /v1/root` answer.
package struct RootView: Codable, Sendable {
    package var id: String
    package var publicKey: String

    package init(
        id: String,
        publicKey: String
    ) {
        self.id = id
        self.publicKey = publicKey
    }
}

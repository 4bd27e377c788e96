import Foundation

/// `GET /v1/uplink`.
package struct UplinkView: Codable, Sendable {
    package struct LastError: Codable, Sendable, Equatable {
        /// A super node reason code (`revoked-certificate`, `gap`, …) or the gateway's own:
        /// `unreachable`, `bad-response`, `bad-checkpoint`, `untrusted-root`.
        package var reason: String
        package var message: String
        package var at: Int64
        package var time: String

        package init(
            reason: String,
            message: String,
            at: Int64,
            time: String
        ) {
            self.reason = reason
            self.message = message
            self.at = at
            self.time = time
        }
    }

    /// False when `serve` runs without `--super-node`.
    package var configured: Bool
    /// `off` when not configured, else an `UplinkState`.
    package var state: String
    package var superNode: String?
    /// The `gatewayURL` sent with every push.
    package var advertiseURL: String?
    package var certificateSerial: UInt64?
    /// Id of the verified super node root key; absent until it is known.
    package var rootKey: String?
    /// Highest block height with a stored checkpoint.
    package var lastCheckpointedHeight: UInt64?
    /// Height of the latest block in the chain store.
    package var sealedHeight: UInt64?
    /// Sealed blocks above the last checkpointed height.
    package var unacknowledgedBlocks: UInt64
    /// When the last checkpoint was stored (ms UTC).
    package var lastCheckpointAt: Int64?
    /// The last failure (kept after recovery, see `state`).
    package var lastError: LastError?

    package init(
        configured: Bool,
        state: String,
        superNode: String? = nil,
        advertiseURL: String? = nil,
        certificateSerial: UInt64? = nil,
        rootKey: String? = nil,
        lastCheckpointedHeight: UInt64? = nil,
        sealedHeight: UInt64? = nil,
        unacknowledgedBlocks: UInt64,
        lastCheckpointAt: Int64? = nil,
        lastError: LastError? = nil
    ) {
        self.configured = configured
        self.state = state
        self.superNode = superNode
        self.advertiseURL = advertiseURL
        self.certificateSerial = certificateSerial
        self.rootKey = rootKey
        self.lastCheckpointedHeight = lastCheckpointedHeight
        self.sealedHeight = sealedHeight
        self.unacknowledgedBlocks = unacknowledgedBlocks
        self.lastCheckpointAt = lastCheckpointAt
        self.lastError = lastError
    }
}

import Foundation
import GridAPI
import LedgerLite
import Logging

/// Which gateway the agent's readings are addressed to: each reading names it in the bytes
/// the meter signs, so that no other gateway takes it. Readings are signed when they are
/// measured, so the id must be known before the first poll, also when the gateway is down:
///
/// 1. the id given to the agent (`--gateway-id`, `gateway-id:` in the agent file), which
///    `edge-gateway init` and `enroll` print;
/// 2. else the id recorded in the outbox when it was last learned or given;
/// 3. else the id the gateway reports (`GET /healthz`), asked once and recorded.
///
/// Only a first start with neither an id given nor one recorded needs the gateway up.
package struct GatewayAddressee: Sendable {
    package let outbox: Outbox
    package let gateway: URL
    package let logger: Logger

    package init(outbox: Outbox, gateway: URL, logger: Logger) {
        self.outbox = outbox
        self.gateway = gateway
        self.logger = logger
    }

    /// The gateway id to address readings to, recorded in the outbox.
    /// - Parameter ask: asks the gateway at `gateway` for its id (hex).
    package func resolve(
        configured: GatewayID?,
        ask: @Sendable () async throws -> String
    ) async throws -> GatewayID {
        let recorded = try await outbox.addressee()
        if let configured {
            if let recorded, recorded != configured {
                logger.notice(
                    "readings are now addressed to another gateway; queued readings for the previous one are signed again when it refuses them",
                    metadata: ["gateway.id": "\(configured.hex)", "previous": "\(recorded.hex)"]
                )
            }
            if recorded != configured { try await outbox.recordAddressee(configured) }
            return configured
        }
        if let recorded { return recorded }
        let text: String
        do {
            text = try await ask()
        } catch {
            throw GatewayAddresseeError.unreachable(gateway: gateway, reason: "\(error)")
        }
        guard let learned = GatewayID(hex: text) else {
            throw GatewayAddresseeError.notAnID(gateway: gateway, answer: text)
        }
        try await outbox.recordAddressee(learned)
        logger.info("learned the gateway's id", metadata: ["gateway.id": "\(learned.hex)"])
        return learned
    }
}

/// The agent cannot tell which gateway to address its readings to.
package enum GatewayAddresseeError: Error, CustomStringConvertible, Equatable {
    /// No id was given or recorded, and the gateway could not be asked.
    case unreachable(gateway: URL, reason: String)
    /// The gateway's answer is not a gateway id.
    case notAnID(gateway: URL, answer: String)

    package var description: String {
        switch self {
        case let .unreachable(gateway, reason):
            return
                "cannot learn the gateway's id from \(gateway) (\(reason)), and none is recorded in the data directory; give it with --gateway-id ID (`gateway-id:` in the agent file; edge-gateway init and enroll print it), or start the gateway first"
        case let .notAnID(gateway, answer):
            return
                "the gateway at \(gateway) reports '\(answer.prefix(64))' as its id, which is not 32 hex digits; check --gateway, or give the id with --gateway-id ID"
        }
    }
}

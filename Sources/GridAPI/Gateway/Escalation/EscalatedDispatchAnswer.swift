/// The producer's gateway's answer to an escalated dispatch.
package struct EscalatedDispatchAnswer: Codable, Sendable, Hashable {
    /// `committed` (the producer-side record is journaled) or `refused`.
    package var status: String
    /// Why it was refused: `insufficient-energy`, `unknown-producer`, `untrusted-decision`,
    /// `wrong-gateway`, `decision-replayed`, `no-super-node`, `malformed`, `storage`.
    package var reason: String?
    package var message: String?
    /// The gateway-signed producer-side Escalation entry, base64.
    package var record: String?
    package var producerTNTBefore: UInt64?
    /// The producer's available energy after it, Wh.
    package var availableWh: UInt64?
    /// True when the decision was committed before (the same record is returned).
    package var replayed: Bool?

    package init(
        status: String,
        reason: String? = nil,
        message: String? = nil,
        record: String? = nil,
        producerTNTBefore: UInt64? = nil,
        availableWh: UInt64? = nil,
        replayed: Bool? = nil
    ) {
        self.status = status
        self.reason = reason
        self.message = message
        self.record = record
        self.producerTNTBefore = producerTNTBefore
        self.availableWh = availableWh
        self.replayed = replayed
    }
}

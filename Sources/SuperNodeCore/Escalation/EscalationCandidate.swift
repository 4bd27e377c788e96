import LedgerLite

/// One producer of another gateway, from that gateway's `GET /v1/tnt`.
package struct EscalationCandidate: Sendable, Hashable, Comparable {
    package var gateway: GatewayID
    package var url: String
    package var producer: MeterID
    package var tnt: UInt64
    package var availableWh: UInt64

    /// Global TNT order: (TNT, producer id), then gateway id (a key enrolled at two gateways).
    package static func < (a: Self, b: Self) -> Bool {
        (a.tnt, a.producer, a.gateway) < (b.tnt, b.producer, b.gateway)
    }
}

extension EscalationCandidate {
    package struct Key: Hashable {
        package var gateway: GatewayID
        package var producer: MeterID
    }
}

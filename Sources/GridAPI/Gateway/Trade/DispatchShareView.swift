import LedgerLite

/// One producer's part in serving a request.
package struct DispatchShareView: Codable, Sendable, Hashable {
    /// The producer's meter id (hex).
    package var producer: String
    /// Energy this producer delivers, Wh.
    package var energyWh: UInt64
    /// The producer's TNT before and after this dispatch.
    package var tntBefore: UInt64
    package var tntAfter: UInt64

    package init(producer: String, energyWh: UInt64, tntBefore: UInt64, tntAfter: UInt64) {
        self.producer = producer
        self.energyWh = energyWh
        self.tntBefore = tntBefore
        self.tntAfter = tntAfter
    }
}

extension DispatchShareView {
    /// A share of a dispatch as the API shows it: TNT after is TNT before + 1.
    package init(_ share: DispatchShare) {
        self.init(
            producer: share.producer.hex,
            energyWh: share.energyWh,
            tntBefore: share.tntBefore,
            tntAfter: share.tntBefore + 1
        )
    }
}

import Foundation
import LedgerLite

/// JSON views of energy trading (GET /v1/tnt, /v1/dispatches, /v1/fairness and
/// `inspect tnt|dispatches|fairness --json`). Quantities are integers in Wh; only the
/// fairness indices are floating point (reports, never signed).

/// The TNT table: the chain's policy and every producer in the order the rule considers them.
package struct TNTView: Codable, Sendable {
    /// `lowest-tnt` or `split-tnt`: the policy the next Dispatch must follow.
    package var policy: String
    /// How many Wh an offer may exceed the producer's metered export by.
    package var offerToleranceWh: UInt64
    /// Every producer ever enrolled (revoked ones with `active: false`), by (TNT, id).
    package var producers: [ProducerView]
    /// Requests on the chain that no Dispatch has answered yet, by (consumer, sequence).
    package var openRequests: [OpenRequestView]

    package init(_ state: TNTState) {
        policy = state.policy.description
        offerToleranceWh = state.offerToleranceWh
        producers = state.producerTable(orderedBy: .tnt).map(ProducerView.init)
        openRequests = state.pendingRequests.map {
            OpenRequestView(
                consumer: $0.consumer.hex,
                sequence: $0.sequence,
                energyWh: state.pendingEnergy(of: $0) ?? 0
            )
        }
    }
}

package struct ProducerView: Codable, Sendable, Equatable {
    package var meter: String
    package var active: Bool
    /// Requests served, a share of a split counting as one.
    package var tnt: UInt64
    /// Energy it can still deliver.
    package var availableWh: UInt64
    /// Energy delivered by dispatches.
    package var servedWh: UInt64
    /// Energy its offers were credited with (after value verification).
    package var creditedWh: UInt64
    /// Metered export since its first reading with an export counter.
    package var exportedWh: UInt64

    package init(_ row: ProducerRow) {
        meter = row.meter.hex
        active = row.status.active
        tnt = row.status.tnt
        availableWh = row.status.availableWh
        servedWh = row.status.servedWh
        creditedWh = row.status.creditedWh
        exportedWh = row.status.exportedWh
    }
}

package struct OpenRequestView: Codable, Sendable, Equatable {
    package var consumer: String
    package var sequence: UInt64
    package var energyWh: UInt64

    package init(
        consumer: String,
        sequence: UInt64,
        energyWh: UInt64
    ) {
        self.consumer = consumer
        self.sequence = sequence
        self.energyWh = energyWh
    }
}

/// One Dispatch entry with the request it answers.
package struct DispatchEntryView: Codable, Sendable {
    /// Global entry index of the Dispatch.
    package var index: UInt64
    /// Block height; nil while pending.
    package var height: UInt64?
    package var sealed: Bool
    package var consumer: String
    package var requestSequence: UInt64
    /// The request's amount; nil only if the request is not on the chain (a chain that
    /// does not verify).
    package var requestedWh: UInt64?
    /// Entry index of the request; nil as `requestedWh`.
    package var requestIndex: UInt64?
    package var requestTimestamp: Int64?
    package var requestTime: String?
    /// `lowest-tnt` or `split-tnt`.
    package var policy: String
    /// `served`, `unserved` or `split`.
    package var outcome: String
    /// Energy delivered, Wh (0 when unserved).
    package var deliveredWh: UInt64
    /// Who delivers it: one share when served, several when split, none when unserved.
    package var shares: [DispatchShareView]

    package init(
        index: UInt64,
        height: UInt64?,
        dispatch d: Dispatch,
        request: (index: UInt64, request: EnergyRequest)?
    ) {
        self.index = index
        self.height = height
        sealed = height != nil
        consumer = d.request.consumer.hex
        requestSequence = d.request.sequence
        requestedWh = request?.request.energyWh
        requestIndex = request?.index
        requestTimestamp = request?.request.timestamp
        requestTime = request.map { isoTime($0.request.timestamp) }
        policy = d.policy.description
        switch d.outcome {
        case .unserved: outcome = "unserved"
        case .served: outcome = "served"
        case .split: outcome = "split"
        }
        deliveredWh = d.outcome.energyWh
        shares = d.outcome.shares.map(DispatchShareView.init)
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

package struct DispatchListView: Codable, Sendable {
    package var dispatches: [DispatchEntryView]
    /// `from` of the next page; nil at the end.
    package var next: UInt64?

    package init(
        dispatches: [DispatchEntryView],
        next: UInt64? = nil
    ) {
        self.dispatches = dispatches
        self.next = next
    }
}

/// Fairness of dispatch over a time window (see `FairnessQuery`).
package struct FairnessView: Codable, Sendable {
    /// Window start (ms, inclusive); nil: since the chain began.
    package var from: Int64?
    /// Window end (ms, exclusive); nil: up to now, pending entries included.
    package var until: Int64?
    package var fromTime: String?
    package var untilTime: String?
    /// Dispatch entries in the window, and how many of them were served (alone or split)
    /// and unserved.
    package var dispatches: Int
    package var served: Int
    package var unserved: Int
    /// Producers the measures are over: those active at the window's end.
    package var producerCount: Int
    /// Max − min of their dispatch counts in the window.
    package var dispatchSpread: UInt64
    /// Max − min of their TNT now (active producers now, pending entries included).
    package var currentTNTSpread: UInt64
    /// Jain's index (Σx)² / (n·Σx²) of energy served in the window.
    package var energyJain: Double
    /// Gini coefficient Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n·Σx) of energy served in the window.
    package var energyGini: Double
    /// Robin Hood (Hoover) index Σ|x − mean| / (2·Σx) of energy served in the window.
    package var energyHoover: Double
    /// Every producer active at the window's end, and any other that served in it, by id.
    package var producers: [FairnessRowView]

    package init(
        from: Int64? = nil,
        until: Int64? = nil,
        fromTime: String? = nil,
        untilTime: String? = nil,
        dispatches: Int,
        served: Int,
        unserved: Int,
        producerCount: Int,
        dispatchSpread: UInt64,
        currentTNTSpread: UInt64,
        energyJain: Double,
        energyGini: Double,
        energyHoover: Double,
        producers: [FairnessRowView]
    ) {
        self.from = from
        self.until = until
        self.fromTime = fromTime
        self.untilTime = untilTime
        self.dispatches = dispatches
        self.served = served
        self.unserved = unserved
        self.producerCount = producerCount
        self.dispatchSpread = dispatchSpread
        self.currentTNTSpread = currentTNTSpread
        self.energyJain = energyJain
        self.energyGini = energyGini
        self.energyHoover = energyHoover
        self.producers = producers
    }
}

package struct FairnessRowView: Codable, Sendable, Equatable {
    package var producer: String
    /// Active at the window's end, so counted in the measures.
    package var counted: Bool
    /// Dispatches it took part in within the window (a split share counting as one).
    package var dispatches: UInt64
    /// Energy it delivered within the window.
    package var energyWh: UInt64
    /// Its TNT now.
    package var tnt: UInt64

    package init(
        producer: String,
        counted: Bool,
        dispatches: UInt64,
        energyWh: UInt64,
        tnt: UInt64
    ) {
        self.producer = producer
        self.counted = counted
        self.dispatches = dispatches
        self.energyWh = energyWh
        self.tnt = tnt
    }
}

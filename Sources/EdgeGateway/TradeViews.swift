import Foundation
import LedgerLite

/// JSON views of energy trading (GET /v1/tnt, /v1/dispatches, /v1/fairness and
/// `inspect tnt|dispatches|fairness --json`). Quantities are integers in Wh; only the
/// fairness indices are floating point (reports, never signed).

/// The TNT table: the chain's policy and every producer in the order the rule considers them.
struct TNTView: Codable, Sendable {
    /// `lowest-tnt` or `split-tnt`: the policy the next Dispatch must follow.
    var policy: String
    /// How many Wh an offer may exceed the producer's metered export by.
    var offerToleranceWh: UInt64
    /// Every producer ever enrolled (revoked ones with `active: false`), by (TNT, id).
    var producers: [ProducerView]
    /// Requests on the chain that no Dispatch has answered yet, by (consumer, sequence).
    var openRequests: [OpenRequestView]

    init(_ state: TNTState) {
        policy = state.policy.description
        offerToleranceWh = state.offerToleranceWh
        producers = state.producerTable(orderedBy: .tnt).map(ProducerView.init)
        openRequests = state.pendingRequests.map {
            OpenRequestView(consumer: $0.consumer.hex, sequence: $0.sequence, energyWh: state.pendingEnergy(of: $0) ?? 0)
        }
    }
}

struct ProducerView: Codable, Sendable, Equatable {
    var meter: String
    var active: Bool
    /// Requests served, a share of a split counting as one.
    var tnt: UInt64
    /// Energy it can still deliver.
    var availableWh: UInt64
    /// Energy delivered by dispatches.
    var servedWh: UInt64
    /// Energy its offers were credited with (after value verification).
    var creditedWh: UInt64
    /// Metered export since its first reading with an export counter.
    var exportedWh: UInt64

    init(_ row: ProducerRow) {
        meter = row.meter.hex
        active = row.status.active
        tnt = row.status.tnt
        availableWh = row.status.availableWh
        servedWh = row.status.servedWh
        creditedWh = row.status.creditedWh
        exportedWh = row.status.exportedWh
    }
}

struct OpenRequestView: Codable, Sendable, Equatable {
    var consumer: String
    var sequence: UInt64
    var energyWh: UInt64
}

/// One Dispatch entry with the request it answers.
struct DispatchEntryView: Codable, Sendable {
    /// Global entry index of the Dispatch.
    var index: UInt64
    /// Block height; nil while pending.
    var height: UInt64?
    var sealed: Bool
    var consumer: String
    var requestSequence: UInt64
    /// The request's amount; nil only if the request is not on the chain (a chain that
    /// does not verify).
    var requestedWh: UInt64?
    /// Entry index of the request; nil as `requestedWh`.
    var requestIndex: UInt64?
    var requestTimestamp: Int64?
    var requestTime: String?
    /// `lowest-tnt` or `split-tnt`.
    var policy: String
    /// `served`, `unserved` or `split`.
    var outcome: String
    /// Energy delivered, Wh (0 when unserved).
    var deliveredWh: UInt64
    /// Who delivers it: one share when served, several when split, none when unserved.
    var shares: [DispatchShareView]

    init(index: UInt64, height: UInt64?, dispatch d: Dispatch, request: (index: UInt64, request: EnergyRequest)?) {
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
    init(_ share: DispatchShare) {
        self.init(producer: share.producer.hex, energyWh: share.energyWh, tntBefore: share.tntBefore, tntAfter: share.tntBefore + 1)
    }
}

struct DispatchListView: Codable, Sendable {
    var dispatches: [DispatchEntryView]
    /// `from` of the next page; nil at the end.
    var next: UInt64?
}

/// Fairness of dispatch over a time window (see `FairnessQuery`).
struct FairnessView: Codable, Sendable {
    /// Window start (ms, inclusive); nil: since the chain began.
    var from: Int64?
    /// Window end (ms, exclusive); nil: up to now, pending entries included.
    var until: Int64?
    var fromTime: String?
    var untilTime: String?
    /// Dispatch entries in the window, and how many of them were served (alone or split)
    /// and unserved.
    var dispatches: Int
    var served: Int
    var unserved: Int
    /// Producers the measures are over: those active at the window's end.
    var producerCount: Int
    /// Max − min of their dispatch counts in the window.
    var dispatchSpread: UInt64
    /// Max − min of their TNT now (active producers now, pending entries included).
    var currentTNTSpread: UInt64
    /// Jain's index (Σx)² / (n·Σx²) of energy served in the window.
    var energyJain: Double
    /// Gini coefficient Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n·Σx) of energy served in the window.
    var energyGini: Double
    /// Robin Hood (Hoover) index Σ|x − mean| / (2·Σx) of energy served in the window.
    var energyHoover: Double
    /// Every producer active at the window's end, and any other that served in it, by id.
    var producers: [FairnessRowView]
}

struct FairnessRowView: Codable, Sendable, Equatable {
    var producer: String
    /// Active at the window's end, so counted in the measures.
    var counted: Bool
    /// Dispatches it took part in within the window (a split share counting as one).
    var dispatches: UInt64
    /// Energy it delivered within the window.
    var energyWh: UInt64
    /// Its TNT now.
    var tnt: UInt64
}

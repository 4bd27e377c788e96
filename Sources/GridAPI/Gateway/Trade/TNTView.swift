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

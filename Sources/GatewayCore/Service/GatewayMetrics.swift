import GridAPI
import LedgerLite
import Prometheus

/// The gateway's Prometheus metrics (`GET /metrics`). One registry per gateway instance,
/// so in-process tests do not share counters. Names: docs/GATEWAY.md, "Metrics".
package final class GatewayMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    package let accepted: Counter
    package let duplicates: Counter
    package let blocksSealed: Counter
    package let entriesSealed: Counter
    /// Write requests refused 429 because their source was over `--write-rate`.
    package let writesThrottled: Counter
    package let ingestLatency: DurationHistogram
    package let metersSeen: Gauge
    package let metersEnrolled: Gauge
    package let pending: Gauge
    package let height: Gauge
    /// Live event streams open now (`GET /v1/events`).
    package let eventStreams: Gauge
    private let rejectedByReason: [IngestReason: Counter]
    private let anomaliesByCategory: [AnomalyCategory: Counter]
    private let offersByOutcome: [String: Counter]
    private let requestsByOutcome: [String: Counter]
    /// The uplink to the super node (Uplink.swift).
    package let uplink: UplinkMetrics

    private static func d(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: name, unitName: unit, helpText: help)
    }

    package init() {
        accepted = registry.makeCounter(
            descriptor: Self.d("readings_accepted", "total", "Readings accepted (durable, to be sealed into a block)."),
            labels: []
        )
        duplicates = registry.makeCounter(
            descriptor: Self.d(
                "readings_duplicate",
                "total",
                "Identical readings received again and acknowledged without a second copy."
            ),
            labels: []
        )
        var rejected: [IngestReason: Counter] = [:]
        for reason in IngestReason.allCases {
            rejected[reason] = registry.makeCounter(
                descriptor: Self.d(
                    "readings_rejected",
                    "total",
                    "Records rejected (or deferred, reason storage), by reason."
                ),
                labels: [("reason", reason.rawValue)]
            )
        }
        rejectedByReason = rejected
        blocksSealed = registry.makeCounter(
            descriptor: Self.d("blocks_sealed", "total", "Blocks sealed and appended to the chain."),
            labels: []
        )
        writesThrottled = registry.makeCounter(
            descriptor: Self.d(
                "writes_throttled",
                "total",
                "Write requests answered 429 because their source sent more than --write-rate allows."
            ),
            labels: []
        )
        entriesSealed = registry.makeCounter(
            descriptor: Self.d("entries_sealed", "total", "Entries sealed into blocks."),
            labels: []
        )
        ingestLatency = registry.makeDurationHistogram(
            descriptor: Self.d(
                "ingest_duration",
                "seconds",
                "Time to check a batch and make it durable, per POST /v1/readings."
            ),
            labels: [],
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .milliseconds(2500), .seconds(5),
            ]
        )
        metersSeen = registry.makeGauge(
            descriptor: Self.d("meters_seen", "", "Meters that have had a reading accepted since start-up."),
            labels: []
        )
        metersEnrolled = registry.makeGauge(
            descriptor: Self.d("meters_enrolled", "", "Meters enrolled and not revoked."),
            labels: []
        )
        pending = registry.makeGauge(
            descriptor: Self.d("pending_entries", "", "Entries accepted (journaled) but not yet sealed."),
            labels: []
        )
        height = registry.makeGauge(
            descriptor: Self.d("chain_height", "", "Height of the latest sealed block (-1 for none)."),
            labels: []
        )
        eventStreams = registry.makeGauge(
            descriptor: Self.d("event_streams", "", "Live event streams open now (GET /v1/events, the dashboard's)."),
            labels: []
        )
        var anomalies: [AnomalyCategory: Counter] = [:]
        for category in AnomalyCategory.allCases {
            anomalies[category] = registry.makeCounter(
                descriptor: Self.d("anomalies", "total", "Anomalies recorded on the chain, by kind."),
                labels: [("kind", category.rawValue)]
            )
        }
        anomaliesByCategory = anomalies
        offersByOutcome = Self.tradeCounters(
            registry,
            "offers",
            "Offers received, by status (and reason when rejected)."
        )
        requestsByOutcome = Self.tradeCounters(
            registry,
            "requests",
            "Energy requests received, by status: served, unserved, duplicate, rejected (with reason)."
        )
        uplink = UplinkMetrics(registry: registry)
    }

    /// One counter per trade outcome: `status`, plus `reason` for rejections.
    private static func tradeCounters(
        _ registry: PrometheusCollectorRegistry,
        _ name: String,
        _ help: String
    ) -> [String: Counter] {
        let outcomes =
            ["accepted", "served", "unserved", "duplicate", "retry"]
            + TradeReason.allCases.map { "rejected:" + $0.rawValue }
        return Dictionary(
            uniqueKeysWithValues: outcomes.map { outcome in
                let parts = outcome.split(separator: ":").map(String.init)
                var labels = [("status", parts[0])]
                if parts.count > 1 { labels.append(("reason", parts[1])) }
                return (outcome, registry.makeCounter(descriptor: d(name, "total", help), labels: labels))
            }
        )
    }

    package func offer(_ status: TradeStatus, reason: TradeReason?) {
        offersByOutcome[Self.outcome(status, reason)]?.increment()
    }
    package func request(_ status: TradeStatus, reason: TradeReason?) {
        requestsByOutcome[Self.outcome(status, reason)]?.increment()
    }

    private static func outcome(_ status: TradeStatus, _ reason: TradeReason?) -> String {
        status == .rejected ? "rejected:" + (reason ?? .malformed).rawValue : status.rawValue
    }

    package func rejected(_ reason: IngestReason) { rejectedByReason[reason]?.increment() }
    package func anomaly(_ category: AnomalyCategory) { anomaliesByCategory[category]?.increment() }

    package func exposition() -> String { registry.emitToString() }
}

import Prometheus
import Synchronization

/// The uplink's metrics, in the gateway's registry (docs/GATEWAY.md, "Metrics").
package final class UplinkMetrics: Sendable {
    package let checkpointedHeight: Gauge
    package let unacknowledged: Gauge
    package let checkpointed: Counter
    private let registry: PrometheusCollectorRegistry
    private let failures = Mutex<[String: Counter]>([:])

    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        checkpointedHeight = registry.makeGauge(
            descriptor: Self.d(
                "uplink_checkpointed_height",
                "",
                "Height of the latest block checkpointed by the super node (-1 for none)."
            ),
            labels: []
        )
        unacknowledged = registry.makeGauge(
            descriptor: Self.d(
                "uplink_unacknowledged_blocks",
                "",
                "Sealed blocks not yet checkpointed by the super node."
            ),
            labels: []
        )
        checkpointed = registry.makeCounter(
            descriptor: Self.d(
                "uplink_blocks_checkpointed",
                "total",
                "Checkpoints received from the super node, verified and stored."
            ),
            labels: []
        )
        checkpointedHeight.set(Double(-1))
    }

    private static func d(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: name, unitName: unit, helpText: help)
    }

    /// Counts a failed push (or root key fetch) by reason.
    package func failure(_ reason: String) {
        let counter = failures.withLock { counters in
            if let c = counters[reason] { return c }
            let c = registry.makeCounter(
                descriptor: Self.d(
                    "uplink_push_failures",
                    "total",
                    "Pushes to the super node that failed, by reason (a super node reason code, or unreachable, bad-response, bad-checkpoint, untrusted-root)."
                ),
                labels: [("reason", reason)]
            )
            counters[reason] = c
            return c
        }
        counter.increment()
    }
}

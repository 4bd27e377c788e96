import GridAPI
import LedgerLite
import Logging
import OperatorKit
import ServiceLifecycle

/// `meter-agent run --auto-offer`: every interval, offers each producer meter's export
/// since its last accepted offer. The baseline moves only when the gateway answered
/// `accepted` or `duplicate`, so export during a gateway outage or a rejection (meter
/// not enrolled yet…) accumulates into the next offer. On a graceful shutdown it makes
/// one last round, after the forwarder has flushed its readings.
package struct AutoOfferer: Service {
    package let producers: [SigningIdentity]
    package let ledger: ExportLedger
    package let gateway: GatewayClient
    package let interval: Duration
    package let logger: Logger
    /// How long each offer stands.
    package var validity: Duration = AgentDefaults.offerValidity
    package var requestTimeout: Duration = .seconds(10)
    /// How long the last round at shutdown may take.
    package var shutdownBudget: Duration = .seconds(5)
    /// Failures, logged once per meter and reason per 30 s with a count.
    private let failures: RateLimitedLog

    package init(
        producers: [SigningIdentity],
        ledger: ExportLedger,
        gateway: GatewayClient,
        interval: Duration,
        logger: Logger
    ) {
        self.producers = producers
        self.ledger = ledger
        self.gateway = gateway
        self.interval = interval
        self.logger = logger
        self.failures = RateLimitedLog(logger: logger, interval: .seconds(30))
    }

    /// What one meter's turn came to.
    package enum Outcome: Equatable {
        /// No acknowledged reading with an export counter yet.
        case noReading
        /// Nothing exported since the last accepted offer.
        case nothingNew
        /// Offered and accepted (or duplicate): the baseline moved.
        case offered(OfferResponse)
        /// Not accepted; the export stays pending for the next round.
        case failed(String)
        /// The gateway asked for fewer requests (HTTP 429): the round stops here, and the
        /// next one waits at least `retryAfter`.
        case throttled(retryAfter: Duration?)
    }

    package func run() async throws {
        defer { failures.flush() }
        var wait = interval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let pause = wait
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                break
            }
            let outcomes = await offerRound(timeout: requestTimeout)
            failures.flush()
            wait = interval
            if case .throttled(let retryAfter?) = outcomes.last { wait = max(interval, retryAfter) }
        }
        if !Task.isCancelled {
            // Graceful shutdown: the forwarder (stopped before us) has flushed its readings.
            _ = await offerRound(timeout: shutdownBudget)
        }
    }

    /// Offers every producer's pending export once.
    package func offerRound(timeout: Duration) async -> [Outcome] {
        var outcomes: [Outcome] = []
        for identity in producers {
            let outcome = await offer(for: identity, timeout: timeout)
            outcomes.append(outcome)
            if case .throttled = outcome { break }
        }
        return outcomes
    }

    /// Offers one meter's export since its last accepted offer, if any.
    package func offer(for identity: SigningIdentity, timeout: Duration? = nil) async -> Outcome {
        let id = identity.id.hex
        let now = TradeSequence.nowMilliseconds()
        let sending: ExportLedger.Unanswered
        if let previous = ledger.unansweredOffer(id), previous.offer.validUntil > now {
            sending = previous
        } else {
            guard let meter = ledger.meter(id) else { return .noReading }
            guard meter.pending > 0 else { return .nothingNew }
            do {
                let offer = try Offer(
                    producer: identity.id,
                    sequence: ledger.nextOfferSequence(id),
                    energyWh: UInt64(meter.pending),
                    validFrom: now,
                    validUntil: now + Int64(validity.milliseconds)
                )
                sending = ExportLedger.Unanswered(
                    signed: try SignedRecord.sign(.offer(offer), with: identity),
                    offer: offer,
                    baseline: meter.baseline,
                    latest: meter.latest
                )
            } catch {
                return fail(id, key: "sign", pending: meter.pending, "cannot sign the offer: \(error)")
            }
        }
        let sequence = sending.offer.sequence
        let pending = sending.latest - sending.baseline
        let response: OfferResponse
        do {
            response = try await TradeClient(http: gateway, timeout: requestTimeout).offer(
                sending.signed,
                timeout: timeout
            )
        } catch {
            ledger.setUnanswered(id, sending)
            let failed = fail(
                id,
                key: error.isTemporary ? "unreachable" : "answer",
                pending: pending,
                error.description
            )
            if case .throttled(_, let retryAfter) = error { return .throttled(retryAfter: retryAfter) }
            return failed
        }
        ledger.setUnanswered(id, nil)
        switch response.status {
        case .accepted, .duplicate:
            ledger.advance(id, from: sending.baseline, to: sending.latest)
            let cut = response.cutWh ?? 0
            logger.log(
                level: cut > 0 ? .notice : .info,
                cut > 0 ? "offer accepted, cut by the gateway" : "offer accepted",
                metadata: [
                    "meter.id": "\(id)", "offer.seq": "\(sequence)", "offered_wh": "\(pending)",
                    "credited_wh": "\(response.creditedWh.map(String.init) ?? "?")", "cut_wh": "\(cut)",
                    "available_wh": "\(response.availableWh.map(String.init) ?? "?")",
                    "block.height": "\(response.blockHeight.map(String.init) ?? "?")",
                    "status": "\(response.status.rawValue)",
                ]
            )
            return .offered(response)
        default:
            let reason = response.reason?.rawValue ?? response.status.rawValue
            let detail = response.detail.map { ": \($0)" } ?? ""
            let hint = response.status == .retry ? "" : TradeReport.hint(response.reason, record: "offer")
            return fail(
                id,
                key: reason,
                pending: pending,
                "gateway answered \(response.status.rawValue) (\(reason))\(detail)\(hint)"
            )
        }
    }

    private func fail(_ id: String, key: String, pending: Int64, _ reason: String) -> Outcome {
        failures.log(
            .warning,
            key: "\(id) \(key)",
            "offer not accepted; the export stays pending for the next offer",
            metadata: [
                "meter.id": "\(id)", "pending_wh": "\(pending)", "reason": "\(reason)",
            ]
        )
        return .failed(reason)
    }
}

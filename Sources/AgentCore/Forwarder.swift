import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import Logging
import NIOCore
import OperatorKit
import ServiceLifecycle

/// Sends the outbox to the gateway in batches and deletes what it acknowledged.
///
/// Failures (gateway down, HTTP errors, timeouts) are retried with exponential backoff
/// and jitter; nothing leaves the outbox unacknowledged. A record the gateway rejects for
/// good (bad signature, malformed, conflicting duplicate, clock skew, revoked meter) is
/// moved to the outbox's `rejected` table and logged: kept, never silently dropped; the
/// meter's later readings are renumbered so its sequence stays gapless.
/// Records rejected for a reason that can heal (meter not enrolled yet, a gap the
/// gateway still waits for, gateway storage trouble) stay queued and are retried. Readings
/// refused as they are addressed (version 1 after the gateway's transition, or addressed to
/// the gateway the agent used before) are signed again for `gatewayID`, keeping their numbers.
package struct Forwarder: Service {
    package let outbox: Outbox
    package let gateway: URL
    /// The gateway readings are addressed to (`GatewayAddressee`); renumbered and
    /// re-addressed readings are signed for it.
    package let gatewayID: GatewayID
    package let httpClient: HTTPClient
    /// The meters' keys by meter id (hex), to renumber readings after a rejection.
    package let identities: [String: SigningIdentity]
    package let logger: Logger
    package var batchSize = 200
    package var requestTimeout: Duration = .seconds(10)
    package var backoff = Backoff(initial: .milliseconds(250), maximum: .seconds(30))
    /// How long a graceful shutdown may spend sending what is left.
    package var shutdownFlushBudget: Duration = .seconds(5)
    /// With `--auto-offer`: takes the export counters of acknowledged producer readings.
    package var exports: ExportLedger?
    /// Which certificate an https:// gateway must present.
    package var tls: ClientTLS = .system

    /// Repeated deferrals and key problems, summarised rather than logged per reading.
    package let notices: RateLimitedLog

    package init(
        outbox: Outbox,
        gateway: URL,
        gatewayID: GatewayID,
        httpClient: HTTPClient,
        identities: [String: SigningIdentity],
        logger: Logger
    ) {
        self.outbox = outbox
        self.gateway = gateway
        self.gatewayID = gatewayID
        self.httpClient = httpClient
        self.identities = identities
        self.logger = logger
        self.notices = RateLimitedLog(logger: logger, interval: .seconds(30))
    }

    private var http: GatewayClient { GatewayClient(base: gateway, client: httpClient, tls: tls) }

    /// Reasons after which a record can never be accepted as it is: it is set aside and
    /// the meter's later readings take its number. `wrong-gateway` and
    /// `retired-reading-version` are not among them: the reading's values are good, only its
    /// address is not, and the agent signs it again (see `sendOnce`).
    package static let permanentReasons: Set<IngestReason> = [
        .malformed, .wrongRecordType, .badSignature, .signerMismatch, .timestampSkew, .implausibleValue,
        .revokedMeter,
    ]

    package func run() async throws {
        var backoff = self.backoff
        var batchSize = self.batchSize
        var appends = outbox.appends.makeAsyncIterator()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let outcome = try await sendOnce(limit: batchSize)
                switch outcome {
                case .idle:
                    // Wait for the next reading the pollers append (or the shutdown).
                    await withGracefulShutdownHandler {
                        _ = await appends.next()
                    } onGracefulShutdown: { [outbox] in
                        outbox.wakeForwarder()
                    }
                case .sent(let retryLater):
                    // Deferred readings slow the retries down; a clean batch resets them.
                    if retryLater { await pause(backoff.next()) } else { backoff.reset() }
                    notices.flush()
                case .tooLarge:
                    batchSize = max(1, batchSize / 2)
                case .throttled(let retryAfter):
                    // The gateway says when; without a Retry-After, back off as after a failure.
                    let wait = retryAfter ?? backoff.next()
                    notices.log(
                        .warning,
                        key: "throttled",
                        "the gateway asked this agent to slow down (HTTP 429); waiting as it said before sending again",
                        metadata: ["gateway": "\(gateway)", "retry_in": "\(wait)"]
                    )
                    await pause(wait)
                }
            } catch {
                let wait = backoff.next()
                logger.warning(
                    "cannot deliver readings to the gateway; retrying",
                    metadata: ["gateway": "\(gateway)", "error": "\(error)", "retry_in": "\(wait)"]
                )
                await pause(wait)
            }
        }
        await flushBeforeExit()
    }

    package enum Outcome {
        /// Nothing waiting.
        case idle
        /// A batch went through; `retryLater` when some records must wait.
        case sent(retryLater: Bool)
        /// The gateway refused the batch size (HTTP 413).
        case tooLarge
        /// The gateway asked the agent to slow down (HTTP 429), for `retryAfter` if it said.
        case throttled(retryAfter: Duration?)
    }

    /// Sends one batch of the oldest records and applies the gateway's answer.
    package func sendOnce(limit: Int, timeout: Duration? = nil) async throws -> Outcome {
        let items = try await outbox.oldest(limit: limit)
        let documents = try await outbox.oldestOCMF(limit: min(limit, Self.ocmfBatchSize))
        guard !items.isEmpty || !documents.isEmpty else { return .idle }
        // OCMF commitments go after the readings, their OCMF strings at the same positions.
        let batch = IngestBatch(
            records: items.map { Data($0.bytes).base64EncodedString() }
                + documents.map { Data($0.bytes).base64EncodedString() },
            ocmf: documents.isEmpty ? nil : [String?](repeating: nil, count: items.count) + documents.map(\.ocmf)
        )
        let answer: IngestResponse
        do throws(GridAPIError) {
            answer = try await http.postReadings(batch, timeout: timeout ?? requestTimeout)
        } catch .status(429, _, _, _, _, let retryAfter) {
            return .throttled(retryAfter: retryAfter)
        } catch .status(413, _, _, _, _, _) {
            logger.notice(
                "gateway refused the batch size; sending smaller batches",
                metadata: ["batch": "\(items.count)"]
            )
            return .tooLarge
        } catch .status(let status, _, _, _, let body, _) {
            throw GatewayError.refused(status: status, body: String(decoding: body, as: UTF8.self))
        } catch .undecodable(let status, _, let body) {
            throw GatewayError.refused(status: status, body: String(decoding: body, as: UTF8.self))
        } catch .transport(_, let error) {
            throw error
        }
        guard answer.results.count == items.count + documents.count else {
            throw GatewayError.mismatchedAnswer(
                "answered \(answer.results.count) results for \(items.count + documents.count) records"
            )
        }
        var acknowledged: [Outbox.Item] = []
        var retryLater = false
        // After a renumbering the meter's later readings in this batch carry old numbers.
        var renumbered: Set<String> = []
        for (item, result) in zip(items, answer.results) {
            if renumbered.contains(item.meter) {
                retryLater = true
            } else if result.isAcknowledged {
                acknowledged.append(item)
            } else if result.status == .rejected, let reason = result.reason,
                reason == .wrongGateway || reason == .retiredReadingVersion
            {
                retryLater = true
                if try await readdress(item, reason: reason, detail: result.detail) { renumbered.insert(item.meter) }
            } else if result.status == .rejected, let reason = result.reason,
                reason == .conflictingDuplicate || Self.permanentReasons.contains(reason)
            {
                retryLater = true
                guard let identity = identities[item.meter] else {
                    notices.log(
                        .error,
                        key: "\(item.meter) nokey",
                        "a reading was rejected but this agent has no key for its meter to renumber it; it stays queued",
                        metadata: ["meter.id": "\(item.meter)", "reason": "\(reason.rawValue)"]
                    )
                    continue
                }
                let resign: @Sendable (SignedRecord, UInt64) throws -> SignedRecord = { [gatewayID] record, sequence in
                    try Self.resign(record, sequence: sequence, for: gatewayID, with: identity)
                }
                if reason == .conflictingDuplicate {
                    // The chain already holds other readings under these numbers: this
                    // agent's numbering fell behind (a lost or restored outbox). Continue
                    // after the chain's last reading instead; nothing is discarded.
                    let next = try await chainLastSequence(of: item.meter) + 1
                    try await outbox.renumber(meter: item.meter, from: next, resign: resign)
                    logger.error(
                        "the gateway already holds other readings under this meter's numbers; queued readings renumbered",
                        metadata: [
                            "meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)",
                            "renumbered_from": "\(next)",
                        ]
                    )
                } else {
                    try await outbox.deadLetter(item, reason: reason.rawValue, detail: result.detail, resign: resign)
                    logger.error(
                        "gateway rejected a reading for good; kept in the outbox's rejected table",
                        metadata: [
                            "meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)",
                            "reason": "\(reason.rawValue)", "detail": "\(result.detail ?? "")",
                        ]
                    )
                }
                renumbered.insert(item.meter)
            } else {
                retryLater = true
                notices.log(
                    .warning,
                    key: "\(item.meter) \(result.reason?.rawValue ?? result.status.rawValue)",
                    "gateway deferred a reading; will retry",
                    metadata: [
                        "meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)",
                        "reason": "\(result.reason?.rawValue ?? result.status.rawValue)",
                        "detail": "\(result.detail ?? "")",
                    ]
                )
            }
        }
        try await outbox.acknowledge(acknowledged.map(\.id))
        if !(try await deliverOCMF(documents, answer.results.dropFirst(items.count))) { retryLater = true }
        if let exports {
            for item in acknowledged where exports.producers.contains(item.meter) {
                do {
                    exports.observe(try SignedRecord(bytes: item.bytes))
                } catch {
                    logger.error(
                        "an acknowledged reading does not decode; its export is not offered",
                        metadata: ["meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)", "error": "\(error)"]
                    )
                }
            }
        }
        logger.debug("batch delivered", metadata: ["acknowledged": "\(acknowledged.count)", "batch": "\(items.count)"])
        return .sent(retryLater: retryLater)
    }

    /// OCMF documents a batch carries at most.
    package static let ocmfBatchSize = 20

    /// Deletes the OCMF documents the gateway acknowledged. The others stay queued and are
    /// sent again, even one the gateway refuses for good (logged as an error): a document
    /// cannot be dropped or renumbered without breaking the gap-free pagination that its
    /// successors already carry in their signed strings. Returns false when some stay.
    private func deliverOCMF(_ documents: [Outbox.OCMFItem], _ results: ArraySlice<IngestResult>) async throws -> Bool {
        var acknowledged: [Int64] = []
        for (document, result) in zip(documents, results) {
            if result.isAcknowledged {
                acknowledged.append(document.id)
                continue
            }
            let reason = result.reason?.rawValue ?? result.status.rawValue
            let permanent = result.status == .rejected && result.reason.map(Self.permanentReasons.contains) == true
            notices.log(
                permanent || result.reason == .invalidOCMF || result.reason == .conflictingDuplicate
                    ? .error : .warning,
                key: "\(document.meter) ocmf \(reason)",
                permanent || result.reason == .invalidOCMF || result.reason == .conflictingDuplicate
                    ? "gateway refused an OCMF document; it stays queued (its pagination cannot be skipped): see the detail"
                    : "gateway deferred an OCMF document; will retry",
                metadata: [
                    "meter.id": "\(document.meter)", "ocmf.pagination": "T\(document.pagination)",
                    "reason": "\(reason)",
                    "detail": "\(result.detail ?? "")",
                ]
            )
        }
        try await outbox.acknowledgeOCMF(acknowledged)
        return acknowledged.count == documents.count
    }

    /// The last sequence number the gateway holds for a meter (`GET /v1/meters/{id}`).
    package func chainLastSequence(of meter: String) async throws -> UInt64 {
        do throws(GridAPIError) {
            return try await http.lastSequence(ofMeter: meter, timeout: .seconds(10))
        } catch .transport(_, let error) {
            throw error
        } catch {
            throw GatewayError.refused(status: error.status ?? 0, body: error.bodyText)
        }
    }

    /// Signs the meter's queued readings from `item` on again for `gatewayID`, when the
    /// gateway refused `item` for its address. Returns false, leaving them queued, when the
    /// reading is already addressed to `gatewayID`: then the gateway at `gateway` is not the
    /// one the agent was told to address (`--gateway-id`), and only the operator can tell
    /// which is right.
    private func readdress(_ item: Outbox.Item, reason: IngestReason, detail: String?) async throws -> Bool {
        let record = try SignedRecord(bytes: item.bytes)
        if reason == .wrongGateway, case .reading(let reading) = record.record, reading.gateway == gatewayID {
            notices.log(
                .error,
                key: "\(item.meter) \(reason.rawValue)",
                "the gateway refuses readings addressed to gateway \(gatewayID.hex): it is another gateway; point --gateway at gateway \(gatewayID.hex), or give this gateway's id with --gateway-id; the readings stay queued",
                metadata: [
                    "meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)", "reason": "\(reason.rawValue)",
                    "detail": "\(detail ?? "")",
                ]
            )
            return false
        }
        guard let identity = identities[item.meter] else {
            notices.log(
                .error,
                key: "\(item.meter) nokey",
                "a reading was refused for its address but this agent has no key for its meter to sign it again; it stays queued",
                metadata: ["meter.id": "\(item.meter)", "reason": "\(reason.rawValue)"]
            )
            return false
        }
        try await outbox.readdress(meter: item.meter, from: item.sequence) { [gatewayID] record, sequence in
            try Self.resign(record, sequence: sequence, for: gatewayID, with: identity)
        }
        logger.notice(
            "queued readings signed again for this gateway",
            metadata: [
                "meter.id": "\(item.meter)", "reading.seq": "\(item.sequence)", "reason": "\(reason.rawValue)",
                "gateway.id": "\(gatewayID.hex)",
            ]
        )
        return true
    }

    /// The same reading with sequence number `sequence`, addressed to `gateway` (version 2),
    /// signed again by its meter.
    package static func resign(
        _ record: SignedRecord,
        sequence: UInt64,
        for gateway: GatewayID,
        with identity: SigningIdentity
    ) throws -> SignedRecord {
        guard case .reading(let reading) = record.record else {
            throw RenumberError.notAReading
        }
        let copy = try Reading(
            meter: reading.meter,
            gateway: gateway,
            sequence: sequence,
            timestamp: reading.timestamp,
            values: reading.values,
            status: reading.status
        )
        return try SignedRecord.sign(.reading(copy), with: identity)
    }

    /// On SIGTERM: try to send what is left, within a time budget; the rest stays on disk.
    private func flushBeforeExit() async {
        let deadline = ContinuousClock.now + shutdownFlushBudget
        while ContinuousClock.now < deadline {
            do {
                let outcome = try await sendOnce(limit: batchSize, timeout: deadline - ContinuousClock.now)
                guard case .sent(let retryLater) = outcome, !retryLater else { break }
            } catch {
                logger.notice(
                    "readings left in the outbox for the next start",
                    metadata: ["error": "\(error)"]
                )
                break
            }
        }
    }

    /// Sleeps, waking early for a graceful shutdown.
    private func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}

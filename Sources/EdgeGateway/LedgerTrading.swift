import Foundation
import LedgerLite
import Logging

/// The last offer or request a meter had recorded: a resent copy is answered again
/// instead of being refused as stale.
struct LastTrade: Sendable {
    var sequence: UInt64
    var bytes: [UInt8]
}

/// Offers, requests and the gateway's policy: the writes of energy trading (issue 6).
///
/// Every decision is made on the chain writer, one at a time, against the TNT state that
/// includes every accepted entry, so two concurrent requests can never both be given the
/// same energy. A request and its dispatch are journaled together before the answer.
extension Ledger {
    // MARK: policy

    /// Puts a PolicyRecord on the chain when the configured dispatch policy or offer
    /// tolerance differs from the chain's; returns it, or nil when nothing changed.
    func adopt(policy: DispatchPolicy, offerToleranceWh: UInt64) throws(AdminError) -> SignedRecord? {
        let tnt = builder.state.tnt
        guard tnt.policy != policy || tnt.offerToleranceWh != offerToleranceWh else { return nil }
        let entry = try addGatewayRecord(.policy(PolicyRecord(policy: policy, offerToleranceWh: offerToleranceWh, timestamp: clock())))
        logger.notice("dispatch policy recorded on the chain", metadata: [
            "policy": "\(policy)", "offer.tolerance_wh": "\(offerToleranceWh)",
            "previous.policy": "\(tnt.policy)", "previous.offer.tolerance_wh": "\(tnt.offerToleranceWh)",
        ])
        return entry
    }

    // MARK: offers

    /// Checks a producer's signed offer, cuts it to metered export plus tolerance, and
    /// records it (with an anomaly when cut) before answering.
    func offer(_ entry: SignedRecord, _ offer: Offer) -> OfferResponse {
        let now = clock()
        let hex = offer.producer.hex
        func answer(_ status: TradeStatus, _ reason: TradeReason? = nil, _ detail: String? = nil, credit: OfferCredit? = nil,
                    available: UInt64? = nil, height: UInt64? = nil) -> OfferResponse {
            metrics.offer(status, reason: reason)
            if let reason, status == .rejected || status == .retry {
                rejections.log(.warning, key: "\(hex)|offer|\(reason.rawValue)", "rejected offer: \(detail ?? reason.rawValue)",
                               metadata: ["meter.id": "\(hex)", "reason": "\(reason.rawValue)", "offer.seq": "\(offer.sequence)"])
            }
            return OfferResponse(status: status, producer: hex, sequence: offer.sequence, offeredWh: offer.energyWh,
                                 creditedWh: credit?.creditedWh, cutWh: credit?.cutWh, availableWh: available,
                                 blockHeight: height, reason: reason, detail: detail)
        }
        if let refusal = checkAuthor(entry, author: offer.producer, role: .producer, type: .offer, sequence: offer.sequence) {
            if refusal.reason == nil {
                return answer(.duplicate, nil, "offer \(offer.sequence) was already recorded; not recorded twice",
                              available: builder.state.tnt.status(of: offer.producer)?.availableWh)
            }
            return answer(.rejected, refusal.reason, refusal.detail)
        }
        guard offer.validUntil > now else {
            return answer(.rejected, .timestampSkew, "the offer's interval ended at \(offer.validUntil) ms, before the gateway's time \(now) ms; offer for an interval that has not ended")
        }
        let credit: OfferCredit
        do { credit = try builder.state.tnt.credit(for: offer) } catch {
            return answer(.rejected, .wrongRole, error.description)
        }
        let cutDetail = "offered \(credit.offeredWh) Wh, but the meter exported \(credit.exportedWh) Wh (+ \(credit.toleranceWh) Wh tolerance) of which \(credit.previouslyCreditedWh) Wh was offered before: credited \(credit.creditedWh) Wh"
        var anomaly: SignedRecord?
        if credit.isCut {
            let finding = AnomalyFinding(category: .offerExceedsProduction, subject: offer.producer,
                                         evidence: Hash256.sha256(entry.bytes), detail: cutDetail)
            do {
                anomaly = try SignedRecord.sign(.anomaly(Anomaly(kind: finding.kind, subject: finding.subject, evidenceHash: finding.evidence,
                                                                 timestamp: now, detail: finding.chainDetail)), with: gatewayKey)
            } catch {
                logger.error("cannot sign an anomaly record", metadata: ["meter.id": "\(hex)", "error": "\(error)"])
                return answer(.retry, .storage, "the gateway could not sign the anomaly for this cut offer; send it again later")
            }
        }
        // An offer that credits nothing is refused; the attempt is still evidence.
        let entries = credit.creditedWh == 0 ? [anomaly].compactMap { $0 } : [entry] + [anomaly].compactMap { $0 }
        let height = builder.nextHeight  // the offer is first, so it goes in this block
        guard journalAndAdd(entries, at: now) else {
            return answer(.retry, .storage, "the gateway could not store the offer durably; send it again later")
        }
        if credit.isCut {
            metrics.anomaly(.offerExceedsProduction)
            logger.warning("anomaly recorded on the chain", metadata: ["meter.id": "\(hex)", "anomaly": "offer-exceeds-production", "detail": "\(cutDetail)"])
        }
        guard credit.creditedWh > 0 else {
            return answer(.rejected, .noMeteredProduction, "\(cutDetail); nothing is left to offer until the meter exports more", credit: credit)
        }
        lastTrades[TradeKey(meter: offer.producer, type: .offer)] = LastTrade(sequence: offer.sequence, bytes: entry.bytes)
        logger.info("offer recorded", metadata: ["meter.id": "\(hex)", "offer.seq": "\(offer.sequence)",
                                                  "offered_wh": "\(credit.offeredWh)", "credited_wh": "\(credit.creditedWh)"])
        return answer(.accepted, nil, credit.isCut ? cutDetail : nil, credit: credit,
                      available: builder.state.tnt.status(of: offer.producer)?.availableWh, height: height)
    }

    // MARK: requests

    /// Checks a consumer's signed request, decides it by the chain's policy, and records the
    /// request and its dispatch together before answering.
    func request(_ entry: SignedRecord, _ request: EnergyRequest) -> DispatchResponse {
        let now = clock()
        let hex = request.consumer.hex
        func answer(_ status: TradeStatus, _ reason: TradeReason? = nil, _ detail: String? = nil) -> DispatchResponse {
            metrics.request(status, reason: reason)
            if let reason, status == .rejected || status == .retry {
                rejections.log(.warning, key: "\(hex)|request|\(reason.rawValue)", "rejected request: \(detail ?? reason.rawValue)",
                               metadata: ["meter.id": "\(hex)", "reason": "\(reason.rawValue)", "request.id": "\(request.sequence)"])
            }
            return DispatchResponse(status: status, consumer: hex, sequence: request.sequence, requestedWh: request.energyWh,
                                    reason: reason, detail: detail)
        }
        if let refusal = checkAuthor(entry, author: request.consumer, role: .consumer, type: .request, sequence: request.sequence) {
            if refusal.reason == nil { return repeatedAnswer(for: request) }
            return answer(.rejected, refusal.reason, refusal.detail)
        }
        guard abs(request.timestamp - now) <= config.maxSkewMs else {
            return answer(.rejected, .timestampSkew, "the request's time \(request.timestamp) ms is \(abs(request.timestamp - now) / 1000) s from the gateway's clock (allowed skew \(config.maxSkewMs / 1000) s); check the meter's clock")
        }
        // Decide on a copy of the state that includes the request, exactly as a replay will.
        var trial = builder.state
        let dispatch: Dispatch
        let dispatchEntry: SignedRecord
        do {
            try trial.apply(entry)
            dispatch = try trial.tnt.dispatch(for: request.reference)
            dispatchEntry = try SignedRecord.sign(.dispatch(dispatch), with: gatewayKey)
        } catch {
            logger.error("cannot decide a checked request", metadata: ["meter.id": "\(hex)", "request.id": "\(request.sequence)", "error": "\(error)"])
            return answer(.retry, .storage, "the gateway could not decide the request (\(error)); send it again later")
        }
        let tntBefore = builder.state.tnt
        guard journalAndAdd([entry, dispatchEntry], at: now) else {
            return answer(.retry, .storage, "the gateway could not store the request durably; send it again later")
        }
        lastTrades[TradeKey(meter: request.consumer, type: .request)] = LastTrade(sequence: request.sequence, bytes: entry.bytes)
        // Still pending: it goes in the next block; otherwise adding it sealed the last one.
        let height = pending.last?.entry.bytes == dispatchEntry.bytes ? builder.nextHeight : builder.nextHeight - 1
        let response = Self.response(request, dispatch, height: height, status: nil, tntBefore: tntBefore)
        metrics.request(response.status, reason: response.reason)
        logger.info("request dispatched", metadata: [
            "meter.id": "\(hex)", "request.id": "\(request.sequence)", "request.wh": "\(request.energyWh)",
            "outcome": "\(dispatch.outcome)", "policy": "\(dispatch.policy)",
        ])
        return response
    }

    /// The answer for a request that was recorded before (an agent retrying).
    private func repeatedAnswer(for request: EnergyRequest) -> DispatchResponse {
        var found: (Dispatch, UInt64?)?
        for p in pending.reversed() {
            if case let .dispatch(d) = p.entry.record, d.request == request.reference { found = (d, nil); break }
        }
        if found == nil {
            do {
                if let stored = try store.dispatch(for: request.reference), case let .dispatch(d) = stored.entry.record {
                    found = (d, stored.height)
                }
            } catch {
                return DispatchResponse(status: .retry, consumer: request.consumer.hex, sequence: request.sequence,
                                        requestedWh: request.energyWh, reason: .storage, detail: "the gateway cannot read its chain store; send the request again later")
            }
        }
        guard let (dispatch, height) = found else {
            return DispatchResponse(status: .rejected, consumer: request.consumer.hex, sequence: request.sequence, requestedWh: request.energyWh,
                                    reason: .staleSequence, detail: "request \(request.sequence) was recorded, but its dispatch is not found")
        }
        var response = Self.response(request, dispatch, height: height ?? builder.nextHeight, status: .duplicate, tntBefore: nil)
        response.detail = "request \(request.sequence) was already decided; this is the recorded decision"
        metrics.request(.duplicate, reason: nil)
        return response
    }

    /// The HTTP answer for a dispatch. TNT after is TNT before + 1 for every share.
    static func response(_ request: EnergyRequest, _ dispatch: Dispatch, height: UInt64, status: TradeStatus?, tntBefore: TNTState?) -> DispatchResponse {
        let shares = dispatch.outcome.shares.map {
            DispatchShareView(producer: $0.producer.hex, energyWh: $0.energyWh, tntBefore: $0.tntBefore, tntAfter: $0.tntBefore + 1)
        }
        let served = !shares.isEmpty
        return DispatchResponse(
            status: status ?? (served ? .served : .unserved), consumer: request.consumer.hex, sequence: request.sequence,
            requestedWh: request.energyWh, policy: dispatch.policy.description, shares: shares, blockHeight: height,
            reason: served ? nil : .insufficientEnergy,
            detail: served ? nil : Self.unservedDetail(request.energyWh, policy: dispatch.policy, state: tntBefore))
    }

    private static func unservedDetail(_ energyWh: UInt64, policy: DispatchPolicy, state: TNTState?) -> String {
        let most = state?.producerTable(orderedBy: .tnt).filter(\.status.active).map(\.status.availableWh).max()
        let largest = most.map { " (the most any producer has is \($0) Wh)" } ?? ""
        switch policy {
        case .lowestTNT: return "no producer has \(energyWh) Wh available\(largest); the request is recorded as unserved"
        case .splitTNT: return "all producers together have less than \(energyWh) Wh available; the request is recorded as unserved"
        }
    }

    // MARK: shared checks

    /// Why a meter's trade record cannot be recorded; `reason` nil means an identical copy
    /// of the meter's last record of this type (a duplicate).
    struct Refusal {
        var reason: TradeReason?
        var detail: String
    }

    /// Identity (ENIV), role, signature and sequence checks shared by offers and requests.
    func checkAuthor(_ entry: SignedRecord, author: MeterID, role: MeterRole, type: RecordType, sequence: UInt64) -> Refusal? {
        let hex = author.hex
        guard entry.signer == author else {
            return Refusal(reason: .badSignature, detail: "the envelope is signed by key \(entry.signer.hex) but the \(type) names meter \(hex); it must be signed by its own meter")
        }
        guard let info = meters[author] else {
            return Refusal(reason: .unknownMeter, detail: "meter \(hex) is not enrolled with this gateway; enroll its public key with `edge-gateway enroll --role \(role)`")
        }
        guard info.active else { return Refusal(reason: .revokedMeter, detail: "meter \(hex) was revoked; its \(type)s are no longer accepted") }
        guard info.role == role else {
            return Refusal(reason: .wrongRole, detail: "meter \(hex) is enrolled as a \(info.role); only a \(role) may send a\(type == .offer ? "n" : "") \(type)")
        }
        guard entry.isSignatureValid(by: info.key) else {
            return Refusal(reason: .badSignature, detail: "the signature does not verify over the record's bytes with meter \(hex)'s enrolled key (altered or forged)")
        }
        if let last = lastTrades[TradeKey(meter: author, type: type)], sequence <= last.sequence {
            if sequence == last.sequence {
                if last.bytes == entry.bytes { return Refusal(reason: nil, detail: "duplicate") }
                return Refusal(reason: .conflictingDuplicate, detail: "meter \(hex) already has \(type) \(sequence) recorded with other contents; use a new sequence number")
            }
            return Refusal(reason: .staleSequence, detail: "\(type) sequence \(sequence) is not above meter \(hex)'s last recorded \(last.sequence); use a higher sequence number (the CLI uses the time in ms)")
        }
        return nil
    }

    /// Journals `entries` in one durable transaction, then adds them to the builder.
    /// False when the journal could not be written (nothing was added).
    func journalAndAdd(_ entries: [SignedRecord], at now: Int64) -> Bool {
        guard !entries.isEmpty else { return true }
        let base = builder.tree.size
        do {
            try journal.append(entries.enumerated().map { PendingJournal.Entry(index: base + UInt64($0.offset), time: now, bytes: $0.element.bytes) })
        } catch {
            logger.error("cannot write the pending journal", metadata: ["error": "\(error)", "path": "\(journal.path)"])
            return false
        }
        for entry in entries { addDurable(entry, at: now) }
        refreshGauges()
        return true
    }
}

/// Which of a meter's trade record streams (offers or requests).
struct TradeKey: Hashable, Sendable {
    var meter: MeterID
    var type: RecordType
}

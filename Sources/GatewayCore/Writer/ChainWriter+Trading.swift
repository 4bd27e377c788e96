import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import Logging

/// Offers, requests and the gateway's policy: the writes of energy trading (issue 6).
///
/// Every decision is made on the chain writer, one at a time, against the TNT state that
/// includes every accepted entry, so two concurrent requests can never both be given the
/// same energy. A request and its dispatch are journaled together before the answer.
extension ChainWriter {
    // MARK: policy

    /// Puts a PolicyRecord on the chain when the configured dispatch policy or offer
    /// tolerance differs from the chain's; returns it, or nil when nothing changed.
    package func adopt(policy: DispatchPolicy, offerToleranceWh: UInt64) async throws(AdminError) -> SignedRecord? {
        let tnt = builder.state.tnt
        guard tnt.policy != policy || tnt.offerToleranceWh != offerToleranceWh else { return nil }
        let entry = try await addGatewayRecord(
            .policy(PolicyRecord(policy: policy, offerToleranceWh: offerToleranceWh, timestamp: clock()))
        )
        logger.notice(
            "dispatch policy recorded on the chain",
            metadata: [
                "policy": "\(policy)", "offer.tolerance_wh": "\(offerToleranceWh)",
                "previous.policy": "\(tnt.policy)", "previous.offer.tolerance_wh": "\(tnt.offerToleranceWh)",
            ]
        )
        return entry
    }

    // MARK: offers and requests

    /// Decides an offer or a request and records it before answering.
    ///
    /// Group commit, as for readings: trades already waiting for the writer join one
    /// group, decided one after another on the builder (each sees the ones before it) and
    /// committed together (`commit`: one journal transaction before any answer).
    package func trade(_ item: TradeItem) async -> TradeAnswer {
        let id = nextTradeID
        nextTradeID += 1
        tradesWaiting.append((id, item))
        await Task.yield()
        if let done = tradesFinished.removeValue(forKey: id) { return done }
        let group = tradesWaiting
        tradesWaiting.removeAll()
        for (item, answer) in zip(group, decideAndRecord(group.map(\.item))) { tradesFinished[item.id] = answer }
        return tradesFinished.removeValue(forKey: id)
            ?? .request(DispatchResponse(status: .retry, reason: .storage, detail: "internal error: no answer"))
    }

    /// One trade's decision before it is durable: its answer and the entries it added.
    package struct Decision {
        package var answer: TradeAnswer
        package var entries: [SignedRecord] = []
        package var afterDurable: [() -> Void] = []
    }

    /// Decides a group in order, staging its entries (so each decision sees the ones
    /// before it and no state is copied), and commits them as one group (`commit`). If the
    /// journal cannot be written the whole group is dropped and answered `retry`.
    private func decideAndRecord(_ items: [TradeItem]) -> [TradeAnswer] {
        resumeAfterArchiveFailure()
        if let halted {
            let refused = items.map { item -> TradeAnswer in
                switch item {
                case .offer:
                    return .offer(OfferResponse(status: .retry, reason: .storage, detail: Self.haltedDetail(halted)))
                case .request:
                    return .request(
                        DispatchResponse(status: .retry, reason: .storage, detail: Self.haltedDetail(halted))
                    )
                }
            }
            for answer in refused { answer.count(in: metrics) }
            return refused
        }
        let now = clock()
        var group = CommitGroup(base: builder.tree.size)
        var decisions: [Decision] = []
        for item in items {
            switch item {
            case let .offer(entry, offer, signatureValid):
                decisions.append(decideOffer(entry, offer, signatureValid: signatureValid, now: now, group: &group))
            case let .request(entry, request, signatureValid):
                decisions.append(
                    decideRequest(entry, request, signatureValid: signatureValid, now: now, group: &group)
                )
            }
        }
        if commit(group, at: now) != nil {
            // The group is gone from memory as well: answer what was decided as deferred.
            let answers = decisions.map {
                $0.entries.isEmpty && !$0.answer.isDuplicate ? $0.answer : $0.answer.deferred()
            }
            for answer in answers { answer.count(in: metrics) }
            return answers
        }
        for d in decisions {
            for action in d.afterDurable { action() }
            d.answer.count(in: metrics)
        }
        return decisions.map(\.answer)
    }

    /// Checks an offer, cuts it to metered export plus tolerance (an anomaly when cut) and
    /// adds it.
    private func decideOffer(
        _ entry: SignedRecord,
        _ offer: Offer,
        signatureValid: Bool?,
        now: Int64,
        group: inout CommitGroup
    ) -> Decision {
        let hex = offer.producer.hex
        func refuse(
            _ status: TradeStatus,
            _ reason: TradeReason?,
            _ detail: String,
            credit: OfferCredit? = nil
        ) -> Decision {
            if let reason, status == .rejected || status == .retry {
                rejections.log(
                    .warning,
                    key: "\(hex)|offer|\(reason.rawValue)",
                    "rejected offer: \(detail)",
                    metadata: ["meter.id": "\(hex)", "reason": "\(reason.rawValue)", "offer.seq": "\(offer.sequence)"]
                )
            }
            return Decision(
                answer: .offer(
                    OfferResponse(
                        status: status,
                        producer: hex,
                        sequence: offer.sequence,
                        offeredWh: offer.energyWh,
                        creditedWh: credit?.creditedWh,
                        cutWh: credit?.cutWh,
                        availableWh: builder.state.tnt.status(of: offer.producer)?.availableWh,
                        reason: reason,
                        detail: detail
                    )
                )
            )
        }
        if let refusal = checkAuthor(
            entry,
            author: offer.producer,
            role: .producer,
            type: .offer,
            sequence: offer.sequence,
            signatureValid: signatureValid
        ) {
            guard let reason = refusal.reason else {
                return refuse(.duplicate, nil, "offer \(offer.sequence) was already recorded; not recorded twice")
            }
            return refuse(.rejected, reason, refusal.detail)
        }
        guard offer.validUntil > now else {
            return refuse(
                .rejected,
                .timestampSkew,
                "the offer's interval ended at \(offer.validUntil) ms, before the gateway's time \(now) ms; offer for an interval that has not ended"
            )
        }
        let credit: OfferCredit
        do { credit = try builder.state.tnt.credit(for: offer) } catch {
            return refuse(.rejected, .wrongRole, error.description)
        }
        let cutDetail =
            "offered \(credit.offeredWh) Wh, but the meter exported \(credit.exportedWh) Wh (+ \(credit.toleranceWh) Wh tolerance) of which \(credit.previouslyCreditedWh) Wh was offered before: credited \(credit.creditedWh) Wh"
        var anomaly: SignedRecord?
        // A refused offer (nothing credited) is evidence once; its copies, and more of them
        // within 10 minutes, are only counted and logged.
        let isRefused = credit.creditedWh == 0
        let recordEvidence =
            !isRefused
            || refusedOfferEvidence[offer.producer].map {
                offer.sequence > $0.sequence && now - $0.time >= Self.refusedOfferEvidenceIntervalMs
            } ?? true
        if credit.isCut && recordEvidence {
            let finding = AnomalyFinding(
                category: .offerExceedsProduction,
                subject: offer.producer,
                evidence: Hash256.sha256(entry.bytes),
                detail: cutDetail
            )
            do {
                anomaly = try SignedRecord.sign(
                    .anomaly(
                        Anomaly(
                            kind: finding.kind,
                            subject: finding.subject,
                            evidenceHash: finding.evidence,
                            timestamp: now,
                            detail: finding.chainDetail
                        )
                    ),
                    with: gatewayKey
                )
            } catch {
                logger.error(
                    "cannot sign an anomaly for a cut offer",
                    metadata: ["meter.id": "\(hex)", "error": "\(error)"]
                )
                return refuse(
                    .retry,
                    .storage,
                    "the gateway could not record the anomaly for this cut offer; send it again later"
                )
            }
        }
        let height = builder.nextHeight
        var decision = Decision(answer: .offer(OfferResponse(status: .accepted)))
        if credit.creditedWh > 0 {
            do { try stage(entry, at: now, in: &group) } catch {
                return refuse(.rejected, .staleSequence, "the chain refuses the offer: \(error)")
            }
            decision.entries.append(entry)
            lastTrades[TradeKey(meter: offer.producer, type: .offer)] = LastTrade(
                sequence: offer.sequence,
                bytes: entry.bytes
            )
            decision.answer = .offer(
                OfferResponse(
                    status: .accepted,
                    producer: hex,
                    sequence: offer.sequence,
                    offeredWh: offer.energyWh,
                    creditedWh: credit.creditedWh,
                    cutWh: credit.cutWh,
                    availableWh: builder.state.tnt.status(of: offer.producer)?.availableWh,
                    blockHeight: height,
                    detail: credit.isCut ? cutDetail : nil
                )
            )
            decision.afterDurable.append { [logger] in
                logger.info(
                    "offer recorded",
                    metadata: [
                        "meter.id": "\(hex)", "offer.seq": "\(offer.sequence)",
                        "offered_wh": "\(credit.offeredWh)", "credited_wh": "\(credit.creditedWh)",
                    ]
                )
            }
        } else {
            // An offer that credits nothing is refused; the attempt is still evidence.
            decision.answer =
                refuse(
                    .rejected,
                    .noMeteredProduction,
                    "\(cutDetail); nothing is left to offer until the meter exports more",
                    credit: credit
                ).answer
        }
        if let anomaly {
            if isRefused { refusedOfferEvidence[offer.producer] = (offer.sequence, now) }
            do { try stage(anomaly, at: now, in: &group) } catch {
                logger.critical(
                    "the block builder refused an anomaly record",
                    metadata: ["meter.id": "\(hex)", "error": "\(error)"]
                )
                return decision
            }
            decision.entries.append(anomaly)
            decision.afterDurable.append { [metrics, logger] in
                metrics.anomaly(.offerExceedsProduction)
                logger.warning(
                    "anomaly recorded on the chain",
                    metadata: ["meter.id": "\(hex)", "anomaly": "offer-exceeds-production", "detail": "\(cutDetail)"]
                )
            }
        }
        return decision
    }

    /// Checks a request, decides it by the chain's policy and adds the request and its
    /// dispatch.
    private func decideRequest(
        _ entry: SignedRecord,
        _ request: EnergyRequest,
        signatureValid: Bool?,
        now: Int64,
        group: inout CommitGroup
    ) -> Decision {
        let hex = request.consumer.hex
        func refuse(_ status: TradeStatus, _ reason: TradeReason, _ detail: String) -> Decision {
            rejections.log(
                .warning,
                key: "\(hex)|request|\(reason.rawValue)",
                "rejected request: \(detail)",
                metadata: ["meter.id": "\(hex)", "reason": "\(reason.rawValue)", "request.id": "\(request.sequence)"]
            )
            return Decision(
                answer: .request(
                    DispatchResponse(
                        status: status,
                        consumer: hex,
                        sequence: request.sequence,
                        requestedWh: request.energyWh,
                        reason: reason,
                        detail: detail
                    )
                )
            )
        }
        if let refusal = checkAuthor(
            entry,
            author: request.consumer,
            role: .consumer,
            type: .request,
            sequence: request.sequence,
            signatureValid: signatureValid
        ) {
            guard let reason = refusal.reason else { return Decision(answer: .request(repeatedAnswer(for: request))) }
            return refuse(.rejected, reason, refusal.detail)
        }
        if let refusal = ClockPolicy(maxSkewMs: config.maxSkewMs).refusal(ofRequestAt: request.timestamp, now: now) {
            return refuse(.rejected, .timestampSkew, refusal)
        }
        do { try stage(entry, at: now, in: &group) } catch {
            return refuse(.rejected, .staleSequence, "the chain refuses the request: \(error)")
        }
        lastTrades[TradeKey(meter: request.consumer, type: .request)] = LastTrade(
            sequence: request.sequence,
            bytes: entry.bytes
        )
        let largest = builder.state.tnt.largestAvailableWh
        let dispatch: Dispatch
        let dispatchEntry: SignedRecord
        do {
            dispatch = try builder.state.tnt.dispatch(for: request.reference)
            dispatchEntry = try SignedRecord.sign(.dispatch(dispatch), with: gatewayKey)
            try stage(dispatchEntry, at: now, in: &group)
        } catch {
            // Not reachable while the rule and the builder agree; the request stays pending
            // on the chain and a resend gets `retry` until an operator looks.
            logger.critical(
                "cannot dispatch a recorded request",
                metadata: ["meter.id": "\(hex)", "request.id": "\(request.sequence)", "error": "\(error)"]
            )
            return Decision(
                answer: .request(
                    DispatchResponse(
                        status: .retry,
                        consumer: hex,
                        sequence: request.sequence,
                        requestedWh: request.energyWh,
                        reason: .storage,
                        detail: "the gateway could not dispatch the request (\(error))"
                    )
                ),
                entries: [entry]
            )
        }
        let answer = Self.response(
            request,
            dispatch,
            height: builder.nextHeight,
            status: nil,
            largestAvailableWh: largest
        )
        return Decision(
            answer: .request(answer),
            entries: [entry, dispatchEntry],
            afterDurable: [
                { [logger] in
                    logger.info(
                        "request dispatched",
                        metadata: [
                            "meter.id": "\(hex)", "request.id": "\(request.sequence)",
                            "request.wh": "\(request.energyWh)",
                            "outcome": "\(dispatch.outcome)", "policy": "\(dispatch.policy)",
                        ]
                    )
                }
            ]
        )
    }

    /// The answer for a request that was recorded before (an agent retrying).
    private func repeatedAnswer(for request: EnergyRequest) -> DispatchResponse {
        func plain(_ status: TradeStatus, _ reason: TradeReason, _ detail: String) -> DispatchResponse {
            DispatchResponse(
                status: status,
                consumer: request.consumer.hex,
                sequence: request.sequence,
                requestedWh: request.energyWh,
                reason: reason,
                detail: detail
            )
        }
        var found: (Dispatch, UInt64?)?
        for p in pending.reversed() {
            if case let .dispatch(d) = p.entry.record, d.request == request.reference {
                found = (d, nil)
                break
            }
        }
        if found == nil {
            do {
                if let stored = try store.dispatch(for: request.reference), case let .dispatch(d) = stored.entry.record
                {
                    found = (d, stored.height)
                }
            } catch {
                return plain(.retry, .storage, "the gateway cannot read its chain store; send the request again later")
            }
        }
        guard let (dispatch, height) = found else {
            // Decided in this same group and not yet durable: the sender sent it twice at once.
            return plain(
                .retry,
                .storage,
                "request \(request.sequence) is being recorded; send it again to get its decision"
            )
        }
        var response = Self.response(
            request,
            dispatch,
            height: height ?? builder.nextHeight,
            status: .duplicate,
            largestAvailableWh: nil
        )
        response.detail = "request \(request.sequence) was already decided; this is the recorded decision"
        return response
    }

    /// The HTTP answer for a dispatch. TNT after is TNT before + 1 for every share.
    package static func response(
        _ request: EnergyRequest,
        _ dispatch: Dispatch,
        height: UInt64?,
        status: TradeStatus?,
        largestAvailableWh: UInt64?
    ) -> DispatchResponse {
        let shares = dispatch.outcome.shares.map(DispatchShareView.init)
        let served = !shares.isEmpty
        return DispatchResponse(
            status: status ?? (served ? .served : .unserved),
            consumer: request.consumer.hex,
            sequence: request.sequence,
            requestedWh: request.energyWh,
            policy: dispatch.policy.description,
            shares: shares,
            blockHeight: height,
            reason: served ? nil : .insufficientEnergy,
            detail: served
                ? nil
                : Self.unservedDetail(request.energyWh, policy: dispatch.policy, largestAvailableWh: largestAvailableWh)
        )
    }

    private static func unservedDetail(
        _ energyWh: UInt64,
        policy: DispatchPolicy,
        largestAvailableWh: UInt64?
    ) -> String {
        let largest = largestAvailableWh.map { " (the most any producer has is \($0) Wh)" } ?? ""
        switch policy {
        case .lowestTNT:
            return "no producer has \(energyWh) Wh available\(largest); the request is recorded as unserved"
        case .splitTNT:
            return
                "no producer has \(energyWh) Wh available\(largest), and producers in TNT order (at most \(Dispatch.maxShares)) cannot cover it together; the request is recorded as unserved"
        }
    }

    // MARK: shared checks

    /// Why a meter's trade record cannot be recorded; `reason` nil means an identical copy
    /// of the meter's last record of this type (a duplicate).
    package struct Refusal {
        package var reason: TradeReason?
        package var detail: String
    }

    /// Identity (ENIV), role, signature and sequence checks shared by offers and requests.
    /// The rules are the chain's (`ChainState.signingKey(for:)`, `TNTState.requireActiveMember`,
    /// `ChainState.admit(_:)`); this only names the rule broken and tells a resent copy from
    /// a conflicting one.
    package func checkAuthor(
        _ entry: SignedRecord,
        author: MeterID,
        role: MeterRole,
        type: RecordType,
        sequence: UInt64,
        signatureValid: Bool?
    ) -> Refusal? {
        let hex = author.hex
        let state = builder.state
        let key: PublicIdentity
        do { key = try state.signingKey(for: entry) } catch {
            return Self.refusal(of: error, author: author, role: role, type: type)
        }
        do { try state.tnt.requireActiveMember(author, needs: role) } catch {
            return Self.refusal(of: .tnt(error), author: author, role: role, type: type)
        }
        guard signatureValid ?? entry.isSignatureValid(by: key) else {
            return Refusal(
                reason: .badSignature,
                detail:
                    "the signature does not verify over the record's bytes with meter \(hex)'s enrolled key (altered or forged)"
            )
        }
        do { _ = try state.admit(entry) } catch {
            guard case let .sequenceNotIncreasing(_, _, last, found) = error else {
                return Self.refusal(of: error, author: author, role: role, type: type)
            }
            if found == last {
                if lastTrades[TradeKey(meter: author, type: type)]?.bytes == entry.bytes {
                    return Refusal(reason: nil, detail: "duplicate")
                }
                return Refusal(
                    reason: .conflictingDuplicate,
                    detail:
                        "meter \(hex) already has \(type) \(sequence) recorded with other contents; use a new sequence number"
                )
            }
            return Refusal(
                reason: .staleSequence,
                detail:
                    "\(type) sequence \(sequence) is not above meter \(hex)'s last recorded \(last); use a higher sequence number (the CLI uses the time in ms)"
            )
        }
        return nil
    }

    /// The trade reason and the operator's sentence for a rule an offer or request breaks.
    private static func refusal(
        of violation: RuleViolation,
        author: MeterID,
        role: MeterRole,
        type: RecordType
    )
        -> Refusal
    {
        let hex = author.hex
        switch violation {
        case let .signerMismatch(signer, _, _):
            return Refusal(
                reason: .badSignature,
                detail:
                    "the envelope is signed by key \(signer.hex) but the \(type) names meter \(hex); it must be signed by its own meter"
            )
        case .unknownSigner, .tnt(.notEnrolled):
            return Refusal(
                reason: .unknownMeter,
                detail:
                    "meter \(hex) is not enrolled with this gateway; enroll its public key with `edge-gateway enroll --role \(role)`"
            )
        case .tnt(.revoked):
            return Refusal(
                reason: .revokedMeter,
                detail: "meter \(hex) was revoked; its \(type)s are no longer accepted"
            )
        case let .tnt(.wrongRole(_, has, _)):
            return Refusal(
                reason: .wrongRole,
                detail:
                    "meter \(hex) is enrolled as a \(has); only a \(role) may send a\(type == .offer ? "n" : "") \(type)"
            )
        default:
            return Refusal(reason: .staleSequence, detail: "the chain refuses the \(type): \(violation)")
        }
    }
}

import Foundation
import LedgerLite
import LedgerStore
import Logging

/// Escalation (issue 7, item 4) on the chain writer: both sides of an escalated request are
/// checked against the live state and journaled before anyone is answered. Network calls
/// (to the super node) are made by the HTTP handlers, never while the writer is held.
extension ChainWriter {
    /// The authority record to put on the chain before an escalation record when the
    /// chain's latest one is not for `root` and `certificate` (first run with a super node,
    /// or a new certificate); nil when the chain already has it.
    private func authorityRecord(
        root: PublicIdentity,
        certificate: SignedGatewayCertificate,
        now: Int64
    ) throws -> SignedRecord? {
        if let current = builder.state.authority, current.rootKey == root, current.certificate == certificate {
            return nil
        }
        return try SignedRecord.sign(
            .authority(AuthorityRecord(rootKey: root, certificate: certificate, timestamp: now)),
            with: gatewayKey
        )
    }

    /// Puts the authority record on the chain now if it is missing (at start-up with a
    /// verified root key). Returns the entry, or nil when nothing changed.
    package func adoptAuthority(
        root: PublicIdentity,
        certificate: SignedGatewayCertificate
    ) throws(AdminError) -> SignedRecord? {
        let now = clock()
        let record: SignedRecord?
        do { record = try authorityRecord(root: root, certificate: certificate, now: now) } catch {
            throw AdminError(kind: .storage, description: "cannot sign the authority record: \(error)")
        }
        guard let record else { return nil }
        if let refusal = journaled([record], now: now) { throw AdminError(kind: .storage, description: refusal) }
        logger.notice(
            "super node recorded on the chain",
            metadata: ["root.id": "\(root.id.hex)", "certificate.serial": "\(certificate.certificate.serial)"]
        )
        return record
    }

    /// Commits `entries` as one group; nil on success, else why not (nothing recorded).
    private func journaled(_ entries: [SignedRecord], now: Int64) -> String? {
        do { try commit(entries: entries, at: now) } catch { return error.description }
        return nil
    }

    /// Producer side: commits a super node decision naming this gateway's producer, if the
    /// live state can serve it. The caller has checked the signature under `root`.
    package func commitEscalated(
        _ decision: SignedEscalationDecision,
        root: PublicIdentity,
        certificate: SignedGatewayCertificate
    ) -> EscalationCommit {
        let d = decision.decision
        func refuse(_ refusal: EscalationRefusal, _ detail: String) -> EscalationCommit {
            logger.warning(
                "escalated dispatch refused",
                metadata: [
                    "decision.id": "\(d.decisionID)", "producer": "\(d.producer.hex)", "reason": "\(refusal.rawValue)",
                    "detail": "\(detail)",
                ]
            )
            return EscalationCommit(refusal: refusal, detail: detail)
        }
        switch escalationVerdict(role: .producer, decision: decision, root: root) {
        case nil:
            break
        case let .resent(existing, e):
            return EscalationCommit(
                entry: existing,
                replayed: true,
                producerTNTBefore: e.producerTNTBefore,
                availableWh: builder.state.tnt.status(of: d.producer)?.availableWh
            )
        case .refused(.decisionReplayed, _):
            return refuse(.decisionReplayed, "decision id \(d.decisionID) is already on this chain with other contents")
        case .refused(.wrongGateway, _):
            return refuse(
                .wrongGateway,
                "decision \(d.decisionID) is for producer gateway \(d.producerGateway.hex); this gateway is \(gatewayKey.id.hex)"
            )
        case .refused:
            return refuse(
                .untrustedDecision,
                "decision \(d.decisionID) is not signed by the super node root key \(root.id.hex) this gateway trusts"
            )
        }
        let now = clock()
        let tnt: UInt64
        do {
            tnt = try builder.state.tnt.escalationTNT(
                producer: d.producer,
                energyWh: d.energyWh,
                decisionID: d.decisionID
            )
        } catch {
            if case let .infeasibleEscalation(_, _, available, needed) = error {
                return refuse(
                    .insufficientEnergy,
                    "producer \(d.producer.hex) has \(available) Wh available now, not \(needed) Wh; choose another producer"
                )
            }
            return refuse(.unknownProducer, "\(error.description); choose another producer")
        }
        let entry: SignedRecord
        switch commitEscalation(
            role: .producer,
            producerTNTBefore: tnt,
            decision: decision,
            root: root,
            certificate: certificate,
            now: now
        ) {
        case let .success(recorded): entry = recorded
        case let .failure(problem): return refuse(.storage, problem.detail)
        }
        let available = builder.state.tnt.status(of: d.producer)?.availableWh
        logger.info(
            "escalated dispatch committed",
            metadata: [
                "decision.id": "\(d.decisionID)", "producer": "\(d.producer.hex)", "energy_wh": "\(d.energyWh)",
                "consumer.gateway": "\(d.consumerGateway.hex)", "request.id": "\(d.requestSequence)",
            ]
        )
        return EscalationCommit(entry: entry, producerTNTBefore: tnt, availableWh: available)
    }

    /// Consumer side: records the super node's decision for this gateway's consumer's
    /// unserved request. The caller has checked the signature under `root`.
    package func recordEscalation(
        _ decision: SignedEscalationDecision,
        root: PublicIdentity,
        certificate: SignedGatewayCertificate
    ) -> EscalationCommit {
        let d = decision.decision
        func refuse(_ refusal: EscalationRefusal, _ detail: String) -> EscalationCommit {
            logger.error(
                "escalation decided but not recorded",
                metadata: [
                    "decision.id": "\(d.decisionID)", "meter.id": "\(d.consumer.hex)",
                    "request.id": "\(d.requestSequence)",
                    "reason": "\(refusal.rawValue)", "detail": "\(detail)",
                ]
            )
            return EscalationCommit(refusal: refusal, detail: detail)
        }
        switch escalationVerdict(role: .consumer, decision: decision, root: root) {
        case nil:
            break
        case let .resent(existing, _):
            return EscalationCommit(entry: existing, replayed: true)
        case .refused(.decisionReplayed, _):
            return refuse(.decisionReplayed, "decision id \(d.decisionID) is already on this chain with other contents")
        case .refused(.wrongGateway, _):
            return refuse(
                .wrongGateway,
                "decision \(d.decisionID) is for consumer gateway \(d.consumerGateway.hex), not this gateway"
            )
        case .refused(.notEscalatable, _):
            return refuse(
                .notEscalatable,
                "\(d.request) is no longer this consumer's latest unserved request (answered by a later request or already escalated)"
            )
        case .refused:
            return refuse(
                .untrustedDecision,
                "the super node's decision \(d.decisionID) is not signed by its root key \(root.id.hex)"
            )
        }
        let entry: SignedRecord
        switch commitEscalation(
            role: .consumer,
            producerTNTBefore: 0,
            decision: decision,
            root: root,
            certificate: certificate,
            now: clock()
        ) {
        case let .success(recorded): entry = recorded
        case let .failure(problem): return refuse(.storage, problem.detail)
        }
        logger.info(
            "request served by escalation",
            metadata: [
                "decision.id": "\(d.decisionID)", "meter.id": "\(d.consumer.hex)", "request.id": "\(d.requestSequence)",
                "producer": "\(d.producer.hex)", "producer.gateway": "\(d.producerGateway.hex)",
            ]
        )
        return EscalationCommit(entry: entry)
    }

    /// What the chain's escalation rules (`ChainState.checkEscalation`) say of `decision` on
    /// `role`'s side, against the root key this gateway trusts: nil when it may be recorded.
    private func escalationVerdict(
        role: MeterRole,
        decision: SignedEscalationDecision,
        root: PublicIdentity
    ) -> EscalationVerdict? {
        do {
            try builder.state.checkEscalation(role: role, decision: decision, rootKey: root)
            return nil
        } catch {
            switch error {
            case .escalationReplayed:
                if let existing = escalations[decision.decision.decisionID], case let .escalation(e) = existing.record,
                    e.decision == decision, e.role == role
                {
                    return .resent(existing, e)
                }
                return .refused(.decisionReplayed, error)
            case .escalationWrongGateway: return .refused(.wrongGateway, error)
            case .escalationNotEscalatable: return .refused(.notEscalatable, error)
            default: return .refused(.untrustedDecision, error)
            }
        }
    }

    /// Signs `role`'s escalation record and commits it, after the authority record when
    /// the chain does not hold this root key and certificate yet.
    private func commitEscalation(
        role: MeterRole,
        producerTNTBefore: UInt64,
        decision: SignedEscalationDecision,
        root: PublicIdentity,
        certificate: SignedGatewayCertificate,
        now: Int64
    ) -> Result<SignedRecord, EscalationNotRecorded> {
        let entries: [SignedRecord]
        do {
            let record = try SignedRecord.sign(
                .escalation(Escalation(role: role, producerTNTBefore: producerTNTBefore, decision: decision)),
                with: gatewayKey
            )
            entries =
                (try authorityRecord(root: root, certificate: certificate, now: now)).map { [$0, record] } ?? [record]
        } catch {
            return .failure(EscalationNotRecorded(detail: "cannot sign the escalation record: \(error)"))
        }
        if let problem = journaled(entries, now: now) { return .failure(EscalationNotRecorded(detail: problem)) }
        return .success(entries[entries.count - 1])
    }

    /// The request's envelope if it is the consumer's escalatable request (recorded
    /// unserved, not yet escalated): what a resent request may escalate again.
    package func escalatableEnvelope(_ request: RequestReference) -> Bool {
        builder.state.escalatableRequest(of: request.consumer)?.request == request
    }

    /// The decision recorded for `request` on the consumer side, if it was escalated.
    package func consumerEscalation(of request: RequestReference) -> SignedEscalationDecision? {
        for entry in escalations.values {
            if case let .escalation(e) = entry.record, e.role == .consumer, e.decision.decision.request == request {
                return e.decision
            }
        }
        return nil
    }

    /// The block height the next sealed block will have.
    package func nextBlockHeight() -> UInt64 { builder.nextHeight }
}

/// What the chain's rules say of an escalation decision this gateway was asked to record.
private enum EscalationVerdict {
    /// The same record is on the chain already: answer it again.
    case resent(SignedRecord, Escalation)
    /// A rule refuses it.
    case refused(EscalationRefusal, RuleViolation)
}

/// Why an escalation record was not recorded (signing or the journal).
private struct EscalationNotRecorded: Error {
    var detail: String
}

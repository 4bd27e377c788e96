import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import Logging

extension SuperNode {
    /// Most producer gateways asked to commit one escalation.
    package static let maxEscalationAttempts = 3

    /// `POST /v1/escalations`: checks the consumer's gateway's certificate, its signature
    /// over the request (`proof`), the consumer's signature and its enrollment on that
    /// gateway's audited chain, then serves the request by global TNT (or says why not).
    /// Returns the HTTP status and the answer.
    package func escalate(
        certificate: [UInt8]?,
        proof: RequestProof,
        request: [UInt8],
        consumerKey: String
    ) async throws -> (Int, EscalationAnswer) {
        func refuse(_ reason: Reason, _ message: String) -> (Int, EscalationAnswer) {
            logger.warning("escalation refused", metadata: ["reason": "\(reason.rawValue)", "detail": "\(message)"])
            return (reason.status, EscalationAnswer(status: "refused", reason: reason.rawValue, message: message))
        }
        let cert: SignedGatewayCertificate
        do {
            cert = try await store.read { db in try self.checkCertificate(certificate, db) }
            try requests.authenticate(
                proof,
                endpoint: SuperNodeRoutes.escalations,
                certificate: cert.certificate,
                now: clock()
            )
        } catch let rejection as Rejection {
            return refuse(rejection.reason, rejection.message)
        }
        let entry: SignedRecord
        do { entry = try SignedRecord(bytes: request) } catch {
            return refuse(.malformedRequest, "request is not a signed record envelope: \(error)")
        }
        guard case let .request(q) = entry.record else {
            return refuse(.malformedRequest, "request is a signed \(entry.record.type), not a request")
        }
        let key: PublicIdentity
        do { key = try KeyFile.parsePublicKeyLine(consumerKey).identity } catch {
            return refuse(.malformedRequest, "consumerKey is not an `ed25519 <base64>` key line: \(error)")
        }
        guard key.id == q.consumer, entry.signer == q.consumer, entry.isSignatureValid(by: key) else {
            return refuse(
                .badRequestSignature,
                "the request is not signed by consumer \(q.consumer.hex) with the key given (its id must be the request's consumer)"
            )
        }
        let consumerGateway = cert.certificate.gateway
        if let problem = try await consumerProblem(q.consumer, key: key, gateway: consumerGateway) {
            return refuse(.unknownConsumer, problem)
        }
        let requestHash = Hash256.sha256(entry.body)
        let claimedAt = clock()
        let lease = Self.escalationLease
        guard
            try await store.write({ db in
                try AuthorityStore.claimEscalation(requestHash, at: claimedAt, lease: lease, db)
            })
        else {
            return refuse(
                .escalationInProgress,
                "request \(q.sequence) of consumer \(q.consumer.hex) is being escalated now; send it again in a moment"
            )
        }
        let answer: (Int, EscalationAnswer)
        do { answer = try await decide(q, requestHash: requestHash, consumerGateway: consumerGateway) } catch {
            await releaseEscalation(requestHash, claimedAt: claimedAt)
            throw error
        }
        await releaseEscalation(requestHash, claimedAt: claimedAt)
        return answer
    }

    /// The longest an escalation holds its request's claim: the producers' query, a pending
    /// decision asked again and `maxEscalationAttempts` commits, each within its timeout, with
    /// room to spare. A replica killed in the middle of one leaves its claim; the request can
    /// be escalated again (by any replica) once this has passed.
    static let escalationLease: Int64 = 60_000

    /// Lets go of this escalation's claim on its request (a claim that cannot be released
    /// expires after `escalationLease`; the error is logged).
    private func releaseEscalation(_ requestHash: Hash256, claimedAt: Int64) async {
        do {
            try await store.write { db in
                try AuthorityStore.releaseEscalation(requestHash, claimedAt: claimedAt, db)
            }
        } catch {
            logger.error(
                "cannot release an escalation's claim on its request; it expires on its own",
                metadata: [
                    "request.hash": "\(requestHash.hex)", "lease.seconds": "\(Self.escalationLease / 1000)",
                    "error": "\(error)",
                ]
            )
        }
    }

    private func decide(
        _ q: EnergyRequest,
        requestHash: Hash256,
        consumerGateway: GatewayID
    ) async throws -> (Int, EscalationAnswer) {
        let meta: Logger.Metadata = [
            "consumer.gateway": "\(consumerGateway.hex)", "meter.id": "\(q.consumer.hex)",
            "request.id": "\(q.sequence)",
        ]
        let rows = try await store.read { db in try AuthorityStore.escalations(db, requestHash: requestHash) }
        if let committed = rows.first(where: { $0.status == "committed" }) {
            guard committed.decision.decision.consumerGateway == consumerGateway else {
                return (
                    Reason.malformedRequest.status,
                    EscalationAnswer(
                        status: "refused",
                        reason: Reason.malformedRequest.rawValue,
                        message:
                            "this request was escalated by gateway \(committed.decision.decision.consumerGateway.hex), not by this one"
                    )
                )
            }
            return (
                200, Self.served(committed.decision, producerTNTBefore: committed.producerTNTBefore, replayed: true)
            )
        }
        // A decision whose producer gateway never answered: ask it again first.
        var refusedHere: Set<EscalationCandidate.Key> = []
        if let pending = rows.first(where: { $0.status == "pending" }) {
            let d = pending.decision.decision
            switch await commit(pending.decision) {
            case let .committed(tnt):
                return (200, Self.served(pending.decision, producerTNTBefore: tnt, replayed: true))
            case .refused:
                refusedHere.insert(.init(gateway: d.producerGateway, producer: d.producer))
            case let .unknown(why):
                return (
                    200,
                    EscalationAnswer(
                        status: "unserved",
                        reason: EscalationOutcome.producerGatewayUnreachable.rawValue,
                        message:
                            "decision \(d.decisionID) was sent to gateway \(d.producerGateway.hex), which has not answered (\(why)); escalate again later"
                    )
                )
            }
        }
        let (candidates, unreachable) = await candidates(for: q.energyWh, excluding: consumerGateway)
        let usable = candidates.filter { !refusedHere.contains(.init(gateway: $0.gateway, producer: $0.producer)) }
        let skipped =
            unreachable.isEmpty
            ? ""
            : " (\(unreachable.count) gateway(s) did not answer: \(unreachable.map(\.hex).joined(separator: ", ")))"
        guard !usable.isEmpty else {
            logger.info("escalation unserved", metadata: meta.merging(["reason": "no-candidate"]) { $1 })
            return (
                200,
                EscalationAnswer(
                    status: "unserved",
                    reason: EscalationOutcome.noCandidate.rawValue,
                    message: "no producer of another gateway has \(q.energyWh) Wh available\(skipped)"
                )
            )
        }
        var tried: [String] = []
        for candidate in usable.prefix(Self.maxEscalationAttempts) {
            let decision = try await issueDecision(
                q,
                requestHash: requestHash,
                consumerGateway: consumerGateway,
                to: candidate
            )
            let d = decision.decision
            switch await commit(decision, url: candidate.url) {
            case let .committed(tnt):
                logger.notice(
                    "escalation served",
                    metadata: meta.merging([
                        "decision.id": "\(d.decisionID)", "producer.gateway": "\(candidate.gateway.hex)",
                        "producer": "\(candidate.producer.hex)",
                    ]) { $1 }
                )
                return (200, Self.served(decision, producerTNTBefore: tnt, replayed: false))
            case let .refused(reason, message):
                tried.append("\(candidate.producer.hex) at \(candidate.gateway.hex): \(reason)")
                logger.info(
                    "escalated dispatch refused; trying the next producer",
                    metadata: meta.merging([
                        "decision.id": "\(d.decisionID)", "producer.gateway": "\(candidate.gateway.hex)",
                        "reason": "\(reason)", "detail": "\(message)",
                    ]) { $1 }
                )
            case let .unknown(why):
                return (
                    200,
                    EscalationAnswer(
                        status: "unserved",
                        reason: EscalationOutcome.producerGatewayUnreachable.rawValue,
                        message:
                            "decision \(d.decisionID) was sent to gateway \(candidate.gateway.hex), which did not answer (\(why)); escalate again later"
                    )
                )
            }
        }
        return (
            200,
            EscalationAnswer(
                status: "unserved",
                reason: EscalationOutcome.candidatesExhausted.rawValue,
                message: "every producer tried refused (\(tried.joined(separator: "; ")))"
            )
        )
    }

    package static func served(
        _ decision: SignedEscalationDecision,
        producerTNTBefore: UInt64?,
        replayed: Bool
    ) -> EscalationAnswer {
        let d = decision.decision
        return EscalationAnswer(
            status: "served",
            decision: Data(decision.bytes).base64EncodedString(),
            decisionID: d.decisionID,
            producerGateway: d.producerGateway.hex,
            producer: d.producer.hex,
            energyWh: d.energyWh,
            producerTNTBefore: producerTNTBefore,
            replayed: replayed
        )
    }

    /// Signs the next decision for `candidate` and stores it as pending before anyone sees it.
    private func issueDecision(
        _ q: EnergyRequest,
        requestHash: Hash256,
        consumerGateway: GatewayID,
        to candidate: EscalationCandidate
    ) async throws -> SignedEscalationDecision {
        try await store.write { db in
            try db.serialize(on: .escalations)
            let id = try AuthorityStore.nextDecisionID(db)
            let decision = try SignedEscalationDecision.sign(
                EscalationDecision(
                    issuer: self.root.id,
                    decisionID: id,
                    consumerGateway: consumerGateway,
                    requestHash: requestHash,
                    consumer: q.consumer,
                    requestSequence: q.sequence,
                    energyWh: q.energyWh,
                    producerGateway: candidate.gateway,
                    producer: candidate.producer,
                    decidedAt: self.clock()
                ),
                with: self.root
            )
            try AuthorityStore.insertEscalation(decision, db)
            return decision
        }
    }

    /// Sends a decision to its producer gateway and stores what it said (committed or
    /// refused; an unknown outcome leaves it pending).
    private func commit(_ decision: SignedEscalationDecision, url: String? = nil) async -> CommitResult {
        let d = decision.decision
        let known: String?
        if let url {
            known = url
        } else {
            do { known = try await gatewayEndpoints()[d.producerGateway] } catch {
                return .unknown("cannot read the gateways' URLs from the store: \(error)")
            }
        }
        guard let text = known, let base = URL(string: text) else {
            return .unknown("no URL is known for gateway \(d.producerGateway.hex)")
        }
        let producerKey: PublicIdentity?
        do { producerKey = try await certifiedKey(of: d.producerGateway) } catch {
            logger.error(
                "cannot read the certificate register",
                metadata: ["decision.id": "\(d.decisionID)", "error": "\(error)"]
            )
            return .unknown("the super node could not read gateway \(d.producerGateway.hex)'s certified key: \(error)")
        }
        let result: CommitResult
        do throws(GridAPIError) {
            let reply = try await gatewayClient(base).commitEscalatedDispatch(
                EscalatedDispatchSubmission(decision: Data(decision.bytes).base64EncodedString()),
                timeout: Self.commitTimeout
            )
            let (status, answer) = (reply.status, reply.body)
            if answer.status == "committed", status == 200 {
                if let record = Self.producerSide(answer.record, of: decision, signedBy: producerKey) {
                    result = .committed(producerTNTBefore: record.producerTNTBefore)
                } else {
                    result = .refused(
                        reason: "unsigned-commit",
                        message:
                            "the answer is not the producer-side record of decision \(d.decisionID) signed by gateway \(d.producerGateway.hex)'s certified key; the energy is not counted as served"
                    )
                }
            } else if answer.status == "refused" {
                result = .refused(reason: answer.reason ?? "refused", message: answer.message ?? "HTTP \(status)")
            } else {
                result = .unknown("HTTP \(status) without the producer-side record")
            }
        } catch .undecodable(let status, _, _) {
            result = .unknown("HTTP \(status) without an escalated-dispatch answer")
        } catch .transport(_, let error) {
            result = .unknown("\(error)")
        } catch {
            result = .unknown("\(error)")
        }
        let status: String?
        var tnt: UInt64?
        var detail: String?
        switch result {
        case let .committed(t):
            status = "committed"
            tnt = t
        case let .refused(reason, message):
            status = "refused"
            detail = "\(reason): \(message)"
        case .unknown: status = nil
        }
        if let status {
            let (tnt, detail) = (tnt, detail)
            do {
                try await store.write { db in
                    try AuthorityStore.setEscalationStatus(
                        d.decisionID,
                        status: status,
                        producerTNTBefore: tnt,
                        detail: detail,
                        db
                    )
                }
            } catch {
                logger.error(
                    "cannot store an escalation outcome",
                    metadata: ["decision.id": "\(d.decisionID)", "error": "\(error)"]
                )
                return .unknown("the super node could not store the outcome: \(error)")
            }
        }
        return result
    }

    /// The producer-side Escalation entry in `record` (base64) when it carries `decision` and
    /// is signed by the producer gateway's certified key `key`; nil otherwise (any other
    /// answer proves nothing about what that gateway committed).
    package static func producerSide(
        _ record: String?,
        of decision: SignedEscalationDecision,
        signedBy key: PublicIdentity?
    ) -> Escalation? {
        guard let key, key.id == decision.decision.producerGateway, let record,
            let bytes = Data(base64Encoded: record), let entry = try? SignedRecord(bytes: Array(bytes)),
            case let .escalation(e) = entry.record
        else { return nil }
        guard e.role == .producer, e.decision == decision, entry.signer == key.id, entry.isSignatureValid(by: key)
        else { return nil }
        return e
    }

    /// Every producer of every other certified gateway with an announced URL that has
    /// `energyWh` available, in global TNT order; and the gateways that did not answer.
    package func candidates(
        for energyWh: UInt64,
        excluding consumerGateway: GatewayID
    ) async -> ([EscalationCandidate], [GatewayID]) {
        let endpoints: [GatewayID: String]
        let certified: Set<GatewayID>
        do {
            endpoints = try await gatewayEndpoints().filter { $0.key != consumerGateway }
            certified = try await store.read { db in
                Set(try endpoints.keys.filter { try AuthorityStore.isCertified($0, db) })
            }
        } catch {
            logger.error("cannot read the certificate register", metadata: ["error": "\(error)"])
            return ([], [])
        }
        let logger = self.logger
        return await withTaskGroup(of: (GatewayID, [EscalationCandidate]?).self) { group in
            for (gateway, url) in endpoints where certified.contains(gateway) {
                group.addTask {
                    do {
                        guard let base = URL(string: url) else { throw StoreDamage("\(url) is not a URL") }
                        let producers = try await self.gatewayClient(base).producers(timeout: .seconds(3))
                        return (
                            gateway,
                            producers.compactMap { p in
                                guard p.active, p.availableWh >= energyWh, let id = MeterID(hex: p.meter) else {
                                    return nil
                                }
                                return EscalationCandidate(
                                    gateway: gateway,
                                    url: url,
                                    producer: id,
                                    tnt: p.tnt,
                                    availableWh: p.availableWh
                                )
                            }
                        )
                    } catch {
                        logger.warning(
                            "cannot read a gateway's TNT table",
                            metadata: ["gateway.id": "\(gateway.hex)", "url": "\(url)", "error": "\(error)"]
                        )
                        return (gateway, nil)
                    }
                }
            }
            var all: [EscalationCandidate] = []
            var unreachable: [GatewayID] = []
            for await (gateway, found) in group {
                if let found { all += found } else { unreachable.append(gateway) }
            }
            return (all.sorted(by: <), unreachable.sorted())
        }
    }
}

extension SuperNode {
    /// How long a producer's gateway may take to commit an escalated dispatch. Short: the
    /// consumer's gateway waits for the whole escalation (about 20 s at most).
    static let commitTimeout: Duration = .seconds(5)
}

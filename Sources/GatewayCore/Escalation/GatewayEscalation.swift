import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite
import LedgerStore
import Logging

/// Escalation over HTTP (docs/GATEWAY.md, "Escalation"): the consumer side asks the super
/// node after recording a request unserved; the producer side takes the super node's
/// decisions on `POST /v1/escalated-dispatches`. The writer (`ChainWriter`) is never held across
/// a network call: the handler escalates, then hands the decision to the writer.
extension Gateway {
    package func addEscalationRoutes(to router: Router<BasicRequestContext>) {
        router.on(GatewayRoutes.escalatedDispatches) { request, _ in
            await self.escalatedDispatch(request)
        }
    }

    // MARK: producer side

    /// `POST /v1/escalated-dispatches`: commits a root-signed decision naming one of this
    /// gateway's producers, if it still has the energy.
    private func escalatedDispatch(_ request: Request) async -> Response {
        func refuse(_ status: HTTPResponse.Status, _ reason: String, _ message: String) -> Response {
            logger.warning("escalated dispatch refused", metadata: ["reason": "\(reason)", "detail": "\(message)"])
            return Self.json(
                EscalatedDispatchAnswer(status: "refused", reason: reason, message: message),
                status: status
            )
        }
        guard let link = superNode else {
            return refuse(
                .notFound,
                "no-super-node",
                "this gateway runs without a super node (serve --super-node URL --certificate FILE), so it takes no escalated dispatches"
            )
        }
        guard let root = await Self.rootKey(of: link, logger: logger) else {
            return refuse(
                .serviceUnavailable,
                "no-root-key",
                "this gateway has not verified its super node's root key yet (pin it with --super-node-key, or let the gateway reach \(link.url)/v1/root); try again later"
            )
        }
        var request = request
        let submission: EscalatedDispatchSubmission
        do {
            let body = try await request.collectBody(for: GatewayRoutes.escalatedDispatches)
            submission = try JSONDecoder().decode(EscalatedDispatchSubmission.self, from: Data(buffer: body))
        } catch let error as BodyTooLarge {
            return refuse(.contentTooLarge, "malformed", "\(error)")
        } catch {
            return refuse(
                .badRequest,
                "malformed",
                "the body is not {\"decision\": \"<base64 signed escalation decision>\"} (\(Self.describe(error)))"
            )
        }
        guard let bytes = Data(base64Encoded: submission.decision) else {
            return refuse(.badRequest, "malformed", "decision is not valid base64")
        }
        let decision: SignedEscalationDecision
        do { decision = try SignedEscalationDecision(bytes: Array(bytes)) } catch {
            return refuse(.badRequest, "malformed", "decision is not a signed escalation decision: \(error)")
        }
        let commit = await writer.commitEscalated(decision, root: root, certificate: link.certificate)
        if let refusal = commit.refusal {
            return Self.json(
                EscalatedDispatchAnswer(status: "refused", reason: refusal.rawValue, message: commit.detail),
                status: HTTPResponse.Status(code: refusal.httpStatus)
            )
        }
        return Self.json(
            EscalatedDispatchAnswer(
                status: "committed",
                record: commit.entry.map { Data($0.bytes).base64EncodedString() },
                producerTNTBefore: commit.producerTNTBefore,
                availableWh: commit.availableWh,
                replayed: commit.replayed ? true : nil
            )
        )
    }

    // MARK: consumer side

    /// True when `answer` leaves the request unserved here, a super node is configured and
    /// the request may still be escalated (a resent copy of an unserved request is
    /// escalated again: the super node answers the same request the same way).
    package func shouldEscalate(_ answer: DispatchResponse, _ request: EnergyRequest) async -> Bool {
        guard superNode != nil, answer.shares.isEmpty, answer.status == .unserved || answer.status == .duplicate else {
            return false
        }
        return await writer.escalatableEnvelope(request.reference)
    }

    /// A resent request that an escalation already served: the recorded decision.
    package func repeatedEscalation(_ answer: DispatchResponse, _ request: EnergyRequest) async -> DispatchResponse? {
        guard answer.status == .duplicate, answer.shares.isEmpty,
            let decision = await writer.consumerEscalation(of: request.reference)
        else { return nil }
        var response = Self.servedByEscalation(
            request,
            decision,
            producerTNTBefore: nil,
            height: answer.blockHeight,
            status: .duplicate,
            policy: answer.policy
        )
        response.detail =
            "request \(request.sequence) was already decided; the super node escalated it (decision \(decision.decision.decisionID)) to producer \(decision.decision.producer.hex) of gateway \(decision.decision.producerGateway.hex)"
        return response
    }

    /// Asks the super node to serve a request recorded unserved here; records its decision
    /// (consumer side) and answers `served`, or keeps the unserved answer and says why.
    package func escalate(
        _ entry: SignedRecord,
        _ request: EnergyRequest,
        unserved: DispatchResponse
    ) async -> DispatchResponse {
        guard let link = superNode else { return unserved }
        let local = unserved.detail ?? "no producer of this gateway can serve it"
        func failed(_ result: String, _ detail: String) -> DispatchResponse {
            var answer = unserved
            answer.escalation = EscalationInfo(result: result, detail: detail)
            answer.detail = "\(local); escalated to the super node: \(detail)"
            logger.warning(
                "escalation did not serve the request",
                metadata: [
                    "meter.id": "\(request.consumer.hex)", "request.id": "\(request.sequence)", "result": "\(result)",
                    "detail": "\(detail)",
                ]
            )
            return answer
        }
        guard let root = await Self.rootKey(of: link, logger: logger) else {
            return failed(
                "super-node-unreachable",
                "the super node's root key is not known yet and \(link.url)/v1/root did not answer; the request stays unserved"
            )
        }
        guard let consumerKey = writer.keys.key(of: request.consumer) else {
            return failed("refused", "the consumer's key is not known to this gateway")
        }
        let submission = EscalationSubmission(
            certificate: Data(link.certificate.bytes).base64EncodedString(),
            request: Data(entry.bytes).base64EncodedString(),
            consumerKey: KeyFile.publicKeyLine(consumerKey)
        )
        // A request is escalated once whichever replica takes it (the super node keeps its
        // decisions by request): one that does not answer is asked again at the next URL.
        var answered: EscalationAnswer?
        for attempt in 0..<link.urls.count where answered == nil {
            do throws(GridAPIError) {
                answered = try await link.client().escalate(
                    submission,
                    signer: RequestSigner(key: writer.gatewayKey, clock: writer.clock),
                    timeout: .milliseconds(writer.config.escalationTimeoutMs)
                ).body
            } catch .undecodable(let status, _, _) {
                return failed(
                    "super-node-unreachable",
                    "the super node answered HTTP \(status) without an escalation answer; the request stays unserved"
                )
            } catch .transport(let url, let error) {
                let failedURL = link.url
                guard attempt + 1 < link.urls.count, link.moveOn(from: url) != nil else {
                    return failed(
                        "super-node-unreachable",
                        "cannot reach the super node at \(failedURL) (\(error)); the request stays unserved"
                    )
                }
                logger.warning(
                    "the super node did not answer an escalation; asking the next URL",
                    metadata: ["url": "\(failedURL)", "next": "\(link.url)", "error": "\(error)"]
                )
            } catch {
                return failed(
                    "super-node-unreachable",
                    "cannot reach the super node at \(link.url) (\(error)); the request stays unserved"
                )
            }
        }
        guard let reply = answered else {
            return failed("super-node-unreachable", "no URL of the super node answered; the request stays unserved")
        }
        guard reply.status == "served" else {
            return failed(reply.reason ?? "refused", reply.message ?? "the super node found no producer")
        }
        guard let text = reply.decision, let bytes = Data(base64Encoded: text),
            let decision = try? SignedEscalationDecision(bytes: Array(bytes))
        else {
            return failed("refused", "the super node answered served without a signed decision")
        }
        let commit = await writer.recordEscalation(decision, root: root, certificate: link.certificate)
        if let refusal = commit.refusal {
            return failed(
                "not-recorded",
                "decision \(decision.decision.decisionID) serves it, but this gateway could not record it (\(refusal.rawValue): \(commit.detail ?? "")); tell the operator"
            )
        }
        return Self.servedByEscalation(
            request,
            decision,
            producerTNTBefore: reply.producerTNTBefore,
            height: await writer.nextBlockHeight(),
            status: unserved.status == .duplicate ? .duplicate : .served,
            policy: unserved.policy
        )
    }

    /// The consumer's answer for a request served by an escalation decision.
    package static func servedByEscalation(
        _ request: EnergyRequest,
        _ decision: SignedEscalationDecision,
        producerTNTBefore: UInt64?,
        height: UInt64?,
        status: TradeStatus = .served,
        policy: String?
    ) -> DispatchResponse {
        let d = decision.decision
        // TNT before and after 0: the remote producer's TNT is not known here (a resent request).
        let share =
            producerTNTBefore.map {
                DispatchShareView(producer: d.producer.hex, energyWh: d.energyWh, tntBefore: $0, tntAfter: $0 + 1)
            }
            ?? DispatchShareView(producer: d.producer.hex, energyWh: d.energyWh, tntBefore: 0, tntAfter: 0)
        return DispatchResponse(
            status: status,
            consumer: request.consumer.hex,
            sequence: request.sequence,
            requestedWh: request.energyWh,
            policy: policy,
            shares: [share],
            blockHeight: height,
            detail:
                "no producer of this gateway could serve it; the super node escalated it (decision \(d.decisionID)) to producer \(d.producer.hex) of gateway \(d.producerGateway.hex)",
            escalation: EscalationInfo(
                result: "served",
                producerGateway: d.producerGateway.hex,
                producer: d.producer.hex,
                decisionID: d.decisionID,
                decision: Data(decision.bytes).base64EncodedString()
            )
        )
    }

    /// The link's verified root key, fetching `GET /v1/root` once when none is known yet.
    package static func rootKey(of link: SuperNodeLink, logger: Logger) async -> PublicIdentity? {
        if let key = link.rootKey { return key }
        do {
            let view = try await link.client().root(timeout: .seconds(10), limit: 1 << 20)
            let key = try KeyFile.parsePublicKeyLine(view.publicKey).identity
            try link.keep(key)
            return key
        } catch {
            logger.warning(
                "cannot learn the super node's root key",
                metadata: ["url": "\(link.url)", "error": "\(error)"]
            )
            return nil
        }
    }
}

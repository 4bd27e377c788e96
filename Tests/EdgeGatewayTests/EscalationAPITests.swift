import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

/// Escalation at the gateway: the producer side (`POST /v1/escalated-dispatches`) and the
/// consumer side (an unserved request escalated to a super node).
@Suite("Escalation: escalated dispatches and escalated requests")
struct EscalationAPITests {
    static let root = TestKeys.key(0xaa)
    static let otherGateway = TestKeys.key(0x88)

    /// A gateway with a super node link at `url` trusting `root`.
    static func harness(url: String = "http://127.0.0.1:9") async throws -> Harness {
        let dir = DataDirectory(makeTempDir())
        let key = try dir.initialise()
        let cert = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: root.id,
                gatewayKey: key.publicIdentity,
                serial: 1,
                issuedAt: 1_767_225_600_000,
                name: "gw"
            ),
            with: root
        )
        let link = SuperNodeLink(
            url: url,
            certificate: cert,
            rootKeyPath: dir.rootKeyPath,
            rootKey: root.publicIdentity
        )
        let logs = LogCapture()
        let clock = TestClock()
        var config = TradingAPITests.generous
        // No test here waits for this bound to pass (the "down" case is refused at once), so it
        // is set where no loaded machine reaches it: an answer from the fake super node on
        // loopback that came after it would turn "served" into "super-node-unreachable".
        config.escalationTimeoutMs = 120_000
        let gateway = try await Gateway.open(
            directory: dir,
            config: config,
            logger: logs.logger,
            clock: clock.function,
            superNode: link
        )
        return Harness(dir: dir, clock: clock, gateway: gateway, logs: logs)
    }

    static func decision(
        id: UInt64 = 1,
        producer: MeterID,
        producerGateway: GatewayID,
        consumerGateway: GatewayID = otherGateway.id,
        request: EnergyRequest,
        requestHash: Hash256? = nil,
        signer: SigningIdentity = root
    ) throws -> SignedEscalationDecision {
        try SignedEscalationDecision.sign(
            EscalationDecision(
                issuer: signer.id,
                decisionID: id,
                consumerGateway: consumerGateway,
                requestHash: requestHash ?? Hash256.sha256(request.canonicalBytes()),
                consumer: request.consumer,
                requestSequence: request.sequence,
                energyWh: request.energyWh,
                producerGateway: producerGateway,
                producer: producer,
                decidedAt: 1_767_225_700_000
            ),
            with: signer
        )
    }

    func commit(
        _ h: Harness,
        _ d: SignedEscalationDecision,
        status: HTTPResponse.Status
    ) async throws -> EscalatedDispatchAnswer {
        let body = try JSONEncoder().encode(EscalatedDispatchSubmission(decision: Data(d.bytes).base64EncodedString()))
        return try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/escalated-dispatches",
                method: .post,
                headers: .json,
                body: ByteBuffer(bytes: body)
            ) {
                response in
                #expect(response.status == status, "\(String(buffer: response.body))")
                return try JSONDecoder().decode(EscalatedDispatchAnswer.self, from: Data(buffer: response.body))
            }
        }
    }

    func verify(_ h: Harness) async throws -> VerifiedChain {
        await h.gateway.writer.sealNow()
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        return try ChainVerifier(gatewayKey: try h.dir.loadKey().publicIdentity).verify(store)
    }

    @Test func producerSideCommitsDebitsAndRefuses() async throws {
        let h = try await Self.harness()
        defer { h.close() }
        let gatewayID = try h.dir.loadKey().id
        let producer = SigningIdentity()
        try await h.enroll(producer, role: .producer)
        var t = TradingAPITests.Trader(h: h)
        #expect(try await t.offer(producer, 5000).status == .accepted)
        let request = try EnergyRequest(
            consumer: SigningIdentity().id,
            sequence: 3,
            energyWh: 1200,
            timestamp: h.clock.now
        )
        let d = try Self.decision(producer: producer.id, producerGateway: gatewayID, request: request)

        let committed = try await commit(h, d, status: .ok)
        #expect(committed.status == "committed" && committed.producerTNTBefore == 0 && committed.availableWh == 3800)
        let recordText = try #require(committed.record)
        let entry = try SignedRecord(bytes: Array(try #require(Data(base64Encoded: recordText))))
        guard case let .escalation(e) = entry.record else {
            Issue.record("not an escalation record")
            return
        }
        #expect(e.role == .producer && e.decision == d && entry.signer == gatewayID)
        // Signed by the gateway's own key, which its certificate binds: what the super node checks.
        #expect(entry.isSignatureValid(by: try h.dir.loadKey().publicIdentity))
        let status = try #require(await h.gateway.writer.tntState().status(of: producer.id))
        #expect(status.availableWh == 3800 && status.tnt == 1 && status.servedWh == 1200)

        // The same decision again: the same record, nothing debited twice.
        let again = try await commit(h, d, status: .ok)
        #expect(again.replayed == true && again.record == committed.record)
        #expect(await h.gateway.writer.tntState().status(of: producer.id)?.availableWh == 3800)

        // Signed by another key than the root the gateway trusts.
        let foreign = try Self.decision(
            id: 2,
            producer: producer.id,
            producerGateway: gatewayID,
            request: request,
            signer: SigningIdentity()
        )
        #expect(try await commit(h, foreign, status: .forbidden).reason == "untrusted-decision")
        // For another gateway.
        let elsewhere = try Self.decision(
            id: 3,
            producer: producer.id,
            producerGateway: TestKeys.key(0x77).id,
            request: request
        )
        #expect(try await commit(h, elsewhere, status: .forbidden).reason == "wrong-gateway")
        // More than the producer has left: a conflict the super node answers by trying another.
        let big = try EnergyRequest(consumer: request.consumer, sequence: 4, energyWh: 4000, timestamp: h.clock.now)
        let spent = try await commit(
            h,
            try Self.decision(id: 4, producer: producer.id, producerGateway: gatewayID, request: big),
            status: .conflict
        )
        #expect(spent.reason == "insufficient-energy")
        let unknown = try await commit(
            h,
            try Self.decision(id: 5, producer: SigningIdentity().id, producerGateway: gatewayID, request: request),
            status: .conflict
        )
        #expect(unknown.reason == "unknown-producer")
        // Another decision reusing a committed id.
        let reused = try Self.decision(id: 1, producer: producer.id, producerGateway: gatewayID, request: big)
        #expect(try await commit(h, reused, status: .conflict).reason == "decision-replayed")

        // The chain (authority record, then the producer side) verifies.
        let verified = try await verify(h)
        #expect(verified.state.authority?.rootKey == Self.root.publicIdentity)
        #expect(verified.state.tnt.status(of: producer.id)?.availableWh == 3800)
    }

    /// A stand-in super node answering `POST /v1/escalations` with a decision for the request.
    final class FakeSuperNode: Sendable {
        let producer = TestKeys.key(0x66).id
        let answerServed: Bool
        let calls = Mutex<[EscalationSubmission]>([])
        /// Each call's `GridLedger-Signature` header and exact body.
        let signed = Mutex<[(signature: String?, body: [UInt8])]>([])

        init(served: Bool) { answerServed = served }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("v1/escalations") { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                let submission = try JSONDecoder().decode(EscalationSubmission.self, from: Data(buffer: body))
                self.calls.withLock { $0.append(submission) }
                let signature = request.headers.first { $0.name.canonicalName == "gridledger-signature" }?.value
                self.signed.withLock { $0.append((signature, Array(buffer: body))) }
                let certificate = try SignedGatewayCertificate(
                    bytes: Array(Data(base64Encoded: submission.certificate)!)
                )
                let entry = try SignedRecord(bytes: Array(Data(base64Encoded: submission.request)!))
                guard case let .request(q) = entry.record, self.answerServed else {
                    return Gateway.json(
                        EscalationAnswer(
                            status: "unserved",
                            reason: "no-candidate",
                            message: "no producer of another gateway has enough"
                        )
                    )
                }
                let d = try SignedEscalationDecision.sign(
                    EscalationDecision(
                        issuer: EscalationAPITests.root.id,
                        decisionID: 7,
                        consumerGateway: certificate.certificate.gateway,
                        requestHash: Hash256.sha256(entry.body),
                        consumer: q.consumer,
                        requestSequence: q.sequence,
                        energyWh: q.energyWh,
                        producerGateway: EscalationAPITests.otherGateway.id,
                        producer: self.producer,
                        decidedAt: 1_767_225_700_000
                    ),
                    with: EscalationAPITests.root
                )
                return Gateway.json(
                    EscalationAnswer(
                        status: "served",
                        decision: Data(d.bytes).base64EncodedString(),
                        decisionID: 7,
                        producerGateway: EscalationAPITests.otherGateway.id.hex,
                        producer: self.producer.hex,
                        energyWh: q.energyWh,
                        producerTNTBefore: 2
                    )
                )
            }
            return router
        }
    }

    @Test func consumerSideRecordsTheSuperNodesDecision() async throws {
        let fake = FakeSuperNode(served: true)
        try await Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let h = try await Self.harness(url: "http://127.0.0.1:\(try #require(client.port))")
                defer { h.close() }
                let consumer = SigningIdentity()
                try await h.enroll(consumer, role: .consumer)
                var t = TradingAPITests.Trader(h: h)
                let answer = try await t.request(consumer, 1200)
                #expect(answer.status == .served, "\(answer)")
                #expect(
                    answer.shares == [
                        DispatchShareView(producer: fake.producer.hex, energyWh: 1200, tntBefore: 2, tntAfter: 3)
                    ]
                )
                #expect(
                    answer.escalation?.result == "served"
                        && answer.escalation?.producerGateway == Self.otherGateway.id.hex
                )
                #expect(answer.escalation?.decisionID == 7)
                let call = try #require(fake.calls.withLock { $0.first })
                #expect(call.consumerKey == KeyFile.publicKeyLine(consumer.publicIdentity))
                // Signed by the gateway's key over this route and the exact body, stamped by its clock.
                let (header, body) = try #require(fake.signed.withLock { $0.first })
                let text = try #require(header)
                let stamp = try SignedRequestStamp(bytes: try #require(Data(base64Encoded: text)))
                #expect(stamp.isSignatureValid(by: try h.dir.loadKey().publicIdentity))
                #expect(stamp.stamp.bodyHash == Hash256.sha256(body))
                #expect(stamp.stamp.routeHash == RequestStamp.route(method: "POST", path: "/v1/escalations"))
                #expect(stamp.stamp.timestamp == h.clock.now)
                // Its chain: request, unserved dispatch, then the consumer side of decision 7.
                let verified = try await verify(h)
                #expect(verified.state.escalatableRequest(of: consumer.id) == nil)
                #expect(verified.state.hasEscalation(decisionID: 7))
                // Sent again: the recorded decision, without asking the super node again.
                let resent = try await h.trade(
                    "/v1/requests",
                    try SignedRecord.sign(
                        .request(
                            try EnergyRequest(
                                consumer: consumer.id,
                                sequence: 1,
                                energyWh: 1200,
                                timestamp: h.clock.now
                            )
                        ),
                        with: consumer
                    ),
                    as: DispatchResponse.self
                )
                #expect(resent.status == .duplicate && resent.escalation?.decisionID == 7)
                #expect(fake.calls.withLock { $0.count } == 1)
            }
    }

    @Test func unservedWhenTheSuperNodeHasNoProducerOrIsDown() async throws {
        let fake = FakeSuperNode(served: false)
        try await Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let h = try await Self.harness(url: "http://127.0.0.1:\(try #require(client.port))")
                defer { h.close() }
                let consumer = SigningIdentity()
                try await h.enroll(consumer, role: .consumer)
                var t = TradingAPITests.Trader(h: h)
                let answer = try await t.request(consumer, 1200)
                #expect(answer.status == .unserved && answer.reason == .insufficientEnergy)
                #expect(answer.escalation?.result == "no-candidate")
                #expect(answer.detail?.contains("escalated to the super node") == true)
                // Still escalatable: a later escalation may serve it.
                #expect(
                    await h.gateway.writer.escalatableEnvelope(RequestReference(consumer: consumer.id, sequence: 1))
                )
            }
        // Nothing listens on the link's URL.
        let h = try await Self.harness(url: "http://127.0.0.1:1")
        defer { h.close() }
        let consumer = SigningIdentity()
        try await h.enroll(consumer, role: .consumer)
        var t = TradingAPITests.Trader(h: h)
        let answer = try await t.request(consumer, 500)
        #expect(answer.status == .unserved)
        #expect(answer.escalation?.result == "super-node-unreachable")
        #expect(answer.detail?.contains("cannot reach the super node") == true)
        _ = try await verify(h)
    }
}

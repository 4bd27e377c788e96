import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore
@testable import SuperNode
@testable import SuperNodeCore

/// Escalation at the super node: global TNT over every other gateway's producers, the next
/// candidate on a conflict, idempotency, and the consumer gateway's certificate.
@Suite("Escalation: cross-gateway dispatch by global TNT", .postgres)
struct EscalationTests {
    /// A stand-in producer gateway: a TNT table on `GET /v1/tnt` and a scripted
    /// `POST /v1/escalated-dispatches` (it commits when the producer has the energy and is
    /// not told to refuse).
    final class FakeGateway: Sendable {
        struct Producer: Sendable {
            var id: MeterID
            var tnt: UInt64
            var availableWh: UInt64
        }

        /// How this gateway signs the producer-side records it answers with.
        enum RecordSigning: Sendable {
            /// With its own key.
            case own
            /// 64 zero bytes in place of the signature.
            case zeroes
            /// With another key, under its own id.
            case by(SigningIdentity)
        }

        let key: SigningIdentity
        let recordSigning: RecordSigning
        let state: Mutex<[Producer]>
        /// Producers whose commits are refused (their energy "spent meanwhile").
        let spent: Mutex<Set<MeterID>>
        let received = Mutex<[SignedEscalationDecision]>([])

        init(key: SigningIdentity, producers: [Producer], spent: Set<MeterID> = [], recordSigning: RecordSigning = .own)
        {
            self.key = key
            self.recordSigning = recordSigning
            state = Mutex(producers)
            self.spent = Mutex(spent)
        }

        struct TNTView: Encodable {
            struct Row: Encodable {
                var meter: String
                var active: Bool
                var tnt: UInt64
                var availableWh: UInt64
            }

            var policy = "lowest-tnt"
            var producers: [Row]
        }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("v1/tnt") { _, _ in
                let rows = self.state.withLock {
                    $0.map { TNTView.Row(meter: $0.id.hex, active: true, tnt: $0.tnt, availableWh: $0.availableWh) }
                }
                return SuperNode.json(TNTView(producers: rows))
            }
            router.post("v1/escalated-dispatches") { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: 1 << 20)
                let submission = try JSONDecoder().decode(EscalatedDispatchSubmission.self, from: Data(buffer: body))
                let decision = try SignedEscalationDecision(bytes: Array(Data(base64Encoded: submission.decision)!))
                self.received.withLock { $0.append(decision) }
                let d = decision.decision
                let refused = self.spent.withLock { $0.contains(d.producer) }
                let tnt: UInt64? = self.state.withLock { producers in
                    guard !refused, let i = producers.firstIndex(where: { $0.id == d.producer }),
                        producers[i].availableWh >= d.energyWh
                    else { return nil }
                    producers[i].availableWh -= d.energyWh
                    producers[i].tnt += 1
                    return producers[i].tnt - 1
                }
                guard let tnt else {
                    return SuperNode.json(
                        EscalatedDispatchAnswer(
                            status: "refused",
                            reason: "insufficient-energy",
                            message: "spent meanwhile"
                        ),
                        status: .conflict
                    )
                }
                let record = try self.sign(
                    .escalation(Escalation(role: .producer, producerTNTBefore: tnt, decision: decision))
                )
                return SuperNode.json(
                    EscalatedDispatchAnswer(
                        status: "committed",
                        record: Data(record.bytes).base64EncodedString(),
                        producerTNTBefore: tnt
                    )
                )
            }
            return router
        }

        /// A record under this gateway's id, signed as `recordSigning` says.
        func sign(_ record: Record) throws -> SignedRecord {
            let own = try SignedRecord.sign(record, with: key)
            let signature: [UInt8]
            switch recordSigning {
            case .own: return own
            case .zeroes: signature = Array(repeating: 0, count: 64)
            case let .by(other): signature = try other.sign(Array(own.body))
            }
            return try SignedRecord(bytes: Array(own.bytes.dropLast(64)) + signature)
        }

        func app() -> some ApplicationProtocol {
            Application(
                router: router(),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                logger: quietLogger
            )
        }
    }

    static let consumerGateway = TestKeys.key(0x31)
    static let gatewayA = TestKeys.key(0x32)
    static let gatewayB = TestKeys.key(0x33)
    static let consumer = TestKeys.key(0x41)

    /// Certifies the three gateways, pushes the consumer gateway's first block (which enrolls
    /// the consumer), and announces A's and B's URLs with a first block each.
    static func setUp(_ h: NodeHarness, portA: Int, portB: Int) async throws -> SignedGatewayCertificate {
        let cert = try await h.certify(consumerGateway, name: "consumer-gw")
        var own = ChainMaker(gateway: consumerGateway)
        try own.gatewayRecord(
            .enrollment(Enrollment(meterKey: consumer.publicIdentity, role: .consumer, timestamp: own.time))
        )
        try own.flush()
        #expect(try await h.push(cert, own.blocks).status == 200)
        for (gateway, port) in [(gatewayA, portA), (gatewayB, portB)] {
            let c = try await h.certify(gateway, name: "producer-gw")
            var chain = ChainMaker(gateway: gateway)
            try chain.gatewayRecord(
                .enrollment(Enrollment(meterKey: chain.consumer.publicIdentity, role: .consumer, timestamp: chain.time))
            )
            try chain.flush()
            let pushed = try await h.push(
                rawCertificate: Data(c.bytes).base64EncodedString(),
                gatewayURL: "http://127.0.0.1:\(port)",
                blocks: [Data(chain.blocks[0].wireBytes()).base64EncodedString()]
            )
            #expect(pushed.status == 200)
        }
        return cert
    }

    static func request(_ sequence: UInt64, _ wh: UInt64) throws -> SignedRecord {
        consumer.signed(
            .request(
                try EnergyRequest(consumer: consumer.id, sequence: sequence, energyWh: wh, timestamp: 1_767_300_000_000)
            )
        )
    }

    func escalate(
        _ h: NodeHarness,
        _ cert: SignedGatewayCertificate?,
        _ request: SignedRecord,
        consumerKey: PublicIdentity = EscalationTests.consumer.publicIdentity,
        signing: Signing = .certified
    ) async throws -> (Int, EscalationAnswer) {
        try await h.escalate(cert, request: request, consumerKey: consumerKey, signing: signing)
    }

    /// Runs `body` with two live fake gateways.
    func withGateways(
        _ a: FakeGateway,
        _ b: FakeGateway,
        _ body: @Sendable (Int, Int) async throws -> Void
    ) async throws {
        try await a.app().test(.live) { clientA in
            try await b.app().test(.live) { clientB in
                try await body(try #require(clientA.port), try #require(clientB.port))
            }
        }
    }

    @Test(arguments: StoreKind.allCases) func picksTheGlobalLowestTNTWithEnoughEnergyTriesTheNextAndIsIdempotent(
        store: StoreKind
    ) async throws {
        let (p1, p2, p3, p4) = (
            TestKeys.key(0x61).id, TestKeys.key(0x62).id, TestKeys.key(0x63).id, TestKeys.key(0x64).id
        )
        // A: p1 TNT 3 (plenty), p2 TNT 0 (too little). B: p3 TNT 2 (plenty), p4 TNT 1 (enough, but spent when asked).
        let a = FakeGateway(
            key: Self.gatewayA,
            producers: [.init(id: p1, tnt: 3, availableWh: 9000), .init(id: p2, tnt: 0, availableWh: 100)]
        )
        let b = FakeGateway(
            key: Self.gatewayB,
            producers: [.init(id: p3, tnt: 2, availableWh: 9000), .init(id: p4, tnt: 1, availableWh: 2000)],
            spent: [p4]
        )
        let h = try await NodeHarness.make(store: store)
        try await withGateways(a, b) { portA, portB in
            let cert = try await Self.setUp(h, portA: portA, portB: portB)
            let request = try Self.request(5, 1200)
            let (status, answer) = try await escalate(h, cert, request)
            #expect(status == 200)
            #expect(answer.status == "served", "\(answer)")
            // p4 (TNT 1) was asked first and refused; p3 (TNT 2) serves; p1 (TNT 3) was not asked.
            #expect(b.received.withLock { $0.map(\.decision.producer) } == [p4, p3])
            #expect(a.received.withLock { $0.isEmpty })
            #expect(
                answer.producer == p3.hex && answer.producerGateway == Self.gatewayB.id.hex
                    && answer.producerTNTBefore == 2
            )
            let text = try #require(answer.decision)
            let decision = try SignedEscalationDecision(bytes: Array(try #require(Data(base64Encoded: text))))
            #expect(decision.isSignatureValid(by: h.rootKey))
            let d = decision.decision
            #expect(
                d.decisionID == 2 && d.consumerGateway == Self.consumerGateway.id
                    && d.requestHash == Hash256.sha256(request.body)
            )
            #expect(d.consumer == Self.consumer.id && d.requestSequence == 5 && d.energyWh == 1200)

            // The same request again: the same decision, nobody asked again.
            let (_, again) = try await escalate(h, cert, request)
            #expect(again.status == "served" && again.decision == answer.decision && again.replayed == true)
            #expect(b.received.withLock { $0.count } == 2)

            // The store holds both decisions: the refused one and the committed one.
            let rows = try await h.node.store.read { db in
                try AuthorityStore.escalations(db, requestHash: d.requestHash)
            }
            #expect(rows.map(\.status) == ["refused", "committed"])

            // Nobody has 20 000 Wh.
            let (_, none) = try await escalate(h, cert, try Self.request(6, 20_000))
            #expect(none.status == "unserved" && none.reason == "no-candidate")

            // Asked again later: the same decision.
            h.clock.advance(ms: 60_000)
            let (laterStatus, later) = try await escalate(h, cert, request)
            #expect(laterStatus == 200 && later.decision == answer.decision)
        }
    }

    @Test(arguments: StoreKind.allCases) func refusesUnknownRevokedAndForgedRequests(store: StoreKind) async throws {
        let a = FakeGateway(
            key: Self.gatewayA,
            producers: [.init(id: TestKeys.key(0x61).id, tnt: 0, availableWh: 9000)]
        )
        let b = FakeGateway(key: Self.gatewayB, producers: [])
        let h = try await NodeHarness.make(store: store)
        try await withGateways(a, b) { portA, portB in
            let cert = try await Self.setUp(h, portA: portA, portB: portB)
            let request = try Self.request(1, 100)
            // A certificate this super node never issued (another root).
            let stranger = try SignedGatewayCertificate.sign(
                GatewayCertificate(
                    issuer: h.node.root.id,
                    gatewayKey: TestKeys.key(0x39).publicIdentity,
                    serial: 99,
                    issuedAt: 0,
                    name: "x"
                ),
                with: h.node.root
            )
            let (unknownStatus, unknown) = try await escalate(h, stranger, request)
            #expect(unknownStatus == 403 && unknown.reason == "unknown-certificate")
            let (missingStatus, missing) = try await escalate(h, nil, request)
            #expect(missingStatus == 401 && missing.reason == "missing-certificate")
            // The request signed by someone else than the consumer key given.
            let (forgedStatus, forged) = try await escalate(
                h,
                cert,
                request,
                consumerKey: TestKeys.key(0x42).publicIdentity
            )
            #expect(forgedStatus == 422 && forged.reason == "bad-request-signature")
            // Revoked.
            _ = try await Authority.revoke(store: h.node.store, .gateway(Self.consumerGateway.id), now: h.clock.now)
            let (revokedStatus, revoked) = try await escalate(h, cert, request)
            #expect(revokedStatus == 403 && revoked.reason == "revoked-certificate")
            #expect(a.received.withLock { $0.isEmpty })
            // A revoked producer gateway is not a candidate either.
            let fresh = try await h.certify(Self.consumerGateway, name: "consumer-gw")
            _ = try await Authority.revoke(store: h.node.store, .gateway(Self.gatewayA.id), now: h.clock.now)
            let (_, noA) = try await escalate(h, fresh, request)
            #expect(noA.status == "unserved" && noA.reason == "no-candidate")
        }
    }
}

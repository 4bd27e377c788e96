import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import HummingbirdTesting
import Synchronization
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore
@testable import SuperNode
@testable import SuperNodeCore

/// A certificate is public (it is on the gateway's chain): pushes and escalations must be
/// signed by the key it binds, once, within the window; an escalation is only for a consumer
/// the gateway's audited chain enrolls; a producer gateway's commit counts only under its
/// certified key; and a gateway's URL moves only with a signed, accepted push.
@Suite("Super node: proof of possession")
struct ProofOfPossessionTests {
    typealias Fake = EscalationTests.FakeGateway
    let gateway = TestKeys.key(0x99)
    let mallory = TestKeys.key(0x4d)

    func withGateways(_ a: Fake, _ b: Fake, _ body: @Sendable (Int, Int) async throws -> Void) async throws {
        try await EscalationTests().withGateways(a, b, body)
    }

    static func p1() -> MeterID { TestKeys.key(0x61).id }

    @Test func aScrapedCertificateCannotMakeAnotherGatewaysProducerGiveEnergyAway() async throws {
        let a = Fake(key: EscalationTests.gatewayA, producers: [.init(id: Self.p1(), tnt: 0, availableWh: 9000)])
        let b = Fake(key: EscalationTests.gatewayB, producers: [])
        let h = try await NodeHarness.make()
        try await withGateways(a, b) { portA, portB in
            let cert = try await EscalationTests.setUp(h, portA: portA, portB: portB)
            // Mallory's own consumer key, never enrolled anywhere, and her own signed request.
            let forged = mallory.signed(
                .request(try EnergyRequest(consumer: mallory.id, sequence: 1, energyWh: 8000, timestamp: h.clock.now))
            )
            // With the consumer gateway's certificate (public) and no signature, or her own.
            let (unsignedStatus, unsigned) = try await h.escalate(
                cert,
                request: forged,
                consumerKey: mallory.publicIdentity,
                signing: .unsigned
            )
            #expect(unsignedStatus == 401 && unsigned.reason == "missing-signature", "\(unsigned)")
            let (ownKeyStatus, ownKey) = try await h.escalate(
                cert,
                request: forged,
                consumerKey: mallory.publicIdentity,
                signing: .by(mallory)
            )
            #expect(ownKeyStatus == 401 && ownKey.reason == "bad-signature", "\(ownKey)")
            // Even the consumer gateway itself cannot escalate for a consumer its chain never enrolled.
            let (strangerStatus, stranger) = try await h.escalate(
                cert,
                request: forged,
                consumerKey: mallory.publicIdentity
            )
            #expect(strangerStatus == 409 && stranger.reason == "unknown-consumer", "\(stranger)")
            #expect(stranger.message?.contains(mallory.id.hex) == true)
            // A's producer was never asked, and still has its 9,000 Wh.
            #expect(a.received.withLock { $0.isEmpty })
            #expect(a.state.withLock { $0[0].availableWh } == 9000)

            // The enrolled consumer is served; once revoked on the audited chain, it is not.
            let (servedStatus, served) = try await h.escalate(
                cert,
                request: try EscalationTests.request(1, 1000),
                consumerKey: EscalationTests.consumer.publicIdentity
            )
            #expect(servedStatus == 200 && served.status == "served", "\(served)")
            var chain = ChainMaker(gateway: EscalationTests.consumerGateway)
            try chain.gatewayRecord(
                .enrollment(
                    Enrollment(
                        meterKey: EscalationTests.consumer.publicIdentity,
                        role: .consumer,
                        timestamp: chain.time
                    )
                )
            )
            try chain.flush()
            try chain.gatewayRecord(
                .revocation(
                    Revocation(
                        meterKey: EscalationTests.consumer.publicIdentity,
                        role: .consumer,
                        timestamp: chain.time
                    )
                )
            )
            try chain.flush()
            #expect(try await h.push(cert, chain.blocks).status == 200)
            let (revokedStatus, revoked) = try await h.escalate(
                cert,
                request: try EscalationTests.request(2, 1000),
                consumerKey: EscalationTests.consumer.publicIdentity
            )
            #expect(revokedStatus == 409 && revoked.reason == "unknown-consumer", "\(revoked)")
            #expect(a.received.withLock { $0.count } == 1)
        }
    }

    @Test func aProducerCommitCountsOnlyWhenSignedByThatGatewaysCertifiedKey() async throws {
        // A answers with a record whose signature is 64 zero bytes; B signs with a key of its own.
        let a = Fake(
            key: EscalationTests.gatewayA,
            producers: [.init(id: Self.p1(), tnt: 0, availableWh: 90_000)],
            recordSigning: .zeroes
        )
        let b = Fake(
            key: EscalationTests.gatewayB,
            producers: [.init(id: TestKeys.key(0x63).id, tnt: 1, availableWh: 90_000)],
            recordSigning: .by(mallory)
        )
        let h = try await NodeHarness.make()
        try await withGateways(a, b) { portA, portB in
            let cert = try await EscalationTests.setUp(h, portA: portA, portB: portB)
            let request = try EscalationTests.request(3, 50_000)
            let (status, answer) = try await h.escalate(
                cert,
                request: request,
                consumerKey: EscalationTests.consumer.publicIdentity
            )
            #expect(status == 200)
            #expect(answer.status == "unserved" && answer.reason == "candidates-exhausted", "\(answer)")
            #expect(answer.decision == nil)
            #expect(a.received.withLock { $0.count } == 1 && b.received.withLock { $0.count } == 1)
            let rows = try await h.node.store.read { db in
                try AuthorityStore.escalations(db, requestHash: Hash256.sha256(request.body))
            }
            #expect(rows.map(\.status) == ["refused", "refused"])
            // The honest gateway's record is what counts.
            let honest = try Fake(key: EscalationTests.gatewayA, producers: []).sign(
                .escalation(Escalation(role: .producer, producerTNTBefore: 0, decision: rows[0].decision))
            )
            let key = EscalationTests.gatewayA.publicIdentity
            let record = Data(honest.bytes).base64EncodedString()
            #expect(SuperNode.producerSide(record, of: rows[0].decision, signedBy: key) != nil)
            #expect(SuperNode.producerSide(record, of: rows[0].decision, signedBy: mallory.publicIdentity) == nil)
            #expect(SuperNode.producerSide(record, of: rows[1].decision, signedBy: key) == nil)
        }
    }

    @Test func aGatewayURLIsRecordedOnlyFromASignedAcceptedPush() async throws {
        let h = try await NodeHarness.make()
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let evil = "http://203.0.113.9:8080"
        // A scraped certificate and a junk block: refused, and the URL is not taken.
        let junk = try await h.push(
            rawCertificate: Data(cert.bytes).base64EncodedString(),
            gatewayURL: evil,
            blocks: [Data([0x11, 0x01, 0x00]).base64EncodedString()],
            signing: .unsigned
        )
        #expect(junk.status == 401 && junk.reasons == "missing-signature")
        let foreignKey = try await h.push(cert, [chain.blocks[0]], gatewayURL: evil, signing: .by(mallory))
        // A key no certificate binds: refused before the body is read.
        #expect(foreignKey.status == 403 && foreignKey.reasons == "unknown-certificate")
        // Signed by the gateway but refused (a junk block; a good block then a gap): not taken either.
        let signedJunk = try await h.push(
            rawCertificate: Data(cert.bytes).base64EncodedString(),
            gatewayURL: evil,
            blocks: [Data([0x11, 0x01, 0x00]).base64EncodedString()]
        )
        #expect(signedJunk.reasons == "malformed-block")
        let partial = try await h.push(cert, [chain.blocks[0], chain.blocks[2]], gatewayURL: evil, signing: .certified)
        #expect(partial.reasons == "gap" && partial.response.checkpoints.count == 1)
        #expect(try await h.node.gatewayEndpoints().isEmpty)
        #expect(try await h.get("/v1/gateways", as: GatewayListView.self).gateways.first?.url == nil)
        // A signed push that is wholly accepted (here a replay of block 0) records it.
        let good = "http://127.0.0.1:8080"
        let accepted = try await h.push(cert, [chain.blocks[0]], gatewayURL: good, signing: .certified)
        #expect(accepted.status == 200 && accepted.response.checkpoints.first?.replayed == true)
        #expect(try await h.node.gatewayEndpoints() == [gateway.id: good])
    }

    @Test func aPushMustBeSignedOverItsOwnBodyAndRouteOnceWithinTheWindow() async throws {
        let h = try await NodeHarness.make()
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let certificate = Data(cert.bytes).base64EncodedString()
        let blocks = [Data(chain.blocks[0].wireBytes()).base64EncodedString()]
        let body = Array(try JSONEncoder().encode(PushRequest(certificate: certificate, blocks: blocks)))
        let route = SuperNodeRoutes.blocks
        func send(_ body: [UInt8], _ signature: String?) async throws -> (Int, PushResponse) {
            let (status, data) = try await h.post(route, body: body, signature: signature)
            return (status, try JSONDecoder().decode(PushResponse.self, from: data))
        }
        func sign(_ body: [UInt8], at: Int64? = nil, route: Endpoint = SuperNodeRoutes.blocks) throws -> String {
            try RequestSigning.headerValue(signer: gateway, at: at ?? h.clock.now, endpoint: route, body: body)
        }
        let window = RequestAuthenticator.standardWindow

        // Signed for another body (the same blocks under another URL) or another route.
        let other = Array(
            try JSONEncoder().encode(PushRequest(certificate: certificate, gatewayURL: "http://x:1", blocks: blocks))
        )
        #expect(try await send(body, try sign(other)).1.rejected?.reason == "bad-signature")
        #expect(
            try await send(body, try sign(body, route: SuperNodeRoutes.escalations)).1.rejected?.reason
                == "bad-signature"
        )
        #expect(try await send(body, "not base64!").1.rejected?.reason == "malformed-signature")
        #expect(
            try await send(body, Data([1, 2, 3]).base64EncodedString()).1.rejected?.reason == "malformed-signature"
        )
        // Outside the window on either side, by one millisecond; a stamp from 1901 is no trouble.
        for at in [h.clock.now - window - 1, h.clock.now + window + 1, -2_177_452_800_000, Int64.min, Int64.max] {
            let (status, answer) = try await send(body, try sign(body, at: at))
            #expect(status == 401 && answer.rejected?.reason == "stale-request", "stamped \(at)")
        }
        #expect(try await h.node.auditedTips().isEmpty)
        // At the edge of the window: accepted, once.
        let signature = try sign(body, at: h.clock.now - window)
        let (status, first) = try await send(body, signature)
        #expect(status == 200 && first.checkpoints.count == 1, "\(first)")
        let (replayStatus, replay) = try await send(body, signature)
        #expect(replayStatus == 409 && replay.rejected?.reason == "replayed-request", "\(replay)")
        // The same body signed again, with a fresh nonce: a replay of block 0, answered.
        #expect(try await send(body, try sign(body)).0 == 200)
        #expect(h.node.requests.keptNonces == 2)
        // Once the window has passed, the nonces are forgotten and an old copy is refused for its time.
        h.clock.advance(ms: 2 * window + 2000)
        let (lateStatus, late) = try await send(body, signature)
        #expect(lateStatus == 401 && late.rejected?.reason == "stale-request")
        #expect(try await send(body, try sign(body)).0 == 200)
        #expect(h.node.requests.keptNonces == 1)
    }
}

@Suite("Super node: nonce register")
struct NonceRegisterTests {
    let a = TestKeys.key(0x31).id
    let b = TestKeys.key(0x32).id

    func nonce(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 16) }

    @Test func aNonceIsTakenOncePerGatewayAndForgottenOnlyAfterTheWindow() throws {
        var register = NonceRegister(window: 300_000, limit: 10)
        let t: Int64 = 1_767_300_000_000
        try register.take(nonce(1), signer: a, timestamp: t, now: t)
        #expect(throws: NonceRegister.Refusal.seen) { try register.take(nonce(1), signer: a, timestamp: t, now: t) }
        // Another gateway's nonces are its own.
        try register.take(nonce(1), signer: b, timestamp: t, now: t)
        // Still remembered at the end of the window (a stamp from t is still acceptable then).
        #expect(throws: NonceRegister.Refusal.seen) {
            try register.take(nonce(1), signer: a, timestamp: t, now: t + 300_000)
        }
        #expect(register.count == 2)
        // Forgotten once the stamp is outside the window: memory follows time, not history.
        try register.take(nonce(2), signer: a, timestamp: t + 302_000, now: t + 302_000)
        #expect(register.count == 1)
    }

    @Test func aGatewayKeepsAtMostLimitNoncesWithinTheWindow() throws {
        var register = NonceRegister(window: 300_000, limit: 3)
        let t: Int64 = 1_767_300_000_000
        for n in UInt8(1)...3 { try register.take(nonce(n), signer: a, timestamp: t, now: t) }
        #expect(throws: NonceRegister.Refusal.full) { try register.take(nonce(4), signer: a, timestamp: t, now: t) }
        // Others are not held back by it.
        try register.take(nonce(4), signer: b, timestamp: t, now: t)
        // Once its stamps expire, it may go on.
        try register.take(nonce(4), signer: a, timestamp: t + 302_000, now: t + 302_000)
        #expect(register.count == 1)
    }
}

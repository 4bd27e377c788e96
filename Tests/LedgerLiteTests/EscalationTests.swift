import Foundation
import TestSupport
import Testing

@testable import LedgerLite

/// Escalation (issue 7, item 4): the decision record, the escalation and authority
/// records, and the chain rules a verifier replays on both gateways' chains.
@Suite struct EscalationTests {
    static let root = TestKeys.key(0xaa)
    static let g1 = TestKeys.gateway  // the consumer's gateway
    static let g2 = TestKeys.key(0x88)  // the producer's gateway
    let t = TestKeys.baseTime

    // MARK: formats

    @Test func formatVectors() throws {
        let v = FormatVectorTests()
        let request = try EnergyRequest(
            consumer: TestKeys.consumer.id,
            sequence: 3,
            energyWh: 1200,
            timestamp: t + 60_000
        )
        let requestHash = Hash256.sha256(request.canonicalBytes())
        #expect(requestHash.hex == "aee61ec24a7788c8f09b176ea4771e84622d0a0d13b6bc04022254ed2fd49efe")
        #expect(Self.g2.id.hex == "a2392944d82466b712478b25d95a5633")
        let decision = try EscalationDecision(
            issuer: Self.root.id,
            decisionID: 1,
            consumerGateway: Self.g1.id,
            requestHash: requestHash,
            consumer: TestKeys.consumer.id,
            requestSequence: 3,
            energyWh: 1200,
            producerGateway: Self.g2.id,
            producer: TestKeys.producer.id,
            decidedAt: t + 61_000
        )
        #expect(decision.canonicalBytes() == (try v.vector("escalation-decision-v1")))
        #expect(try EscalationDecision(canonicalBytes: v.vector("escalation-decision-v1")[...]) == decision)
        let signed = try SignedEscalationDecision.sign(decision, with: Self.root)
        #expect(signed.bytes == (try v.vector("signed-escalation-decision-v1")))
        #expect(signed.isSignatureValid(by: Self.root.publicIdentity))
        #expect(!signed.isSignatureValid(by: Self.g1.publicIdentity))

        let producerSide = try Escalation(role: .producer, producerTNTBefore: 4, decision: signed)
        #expect(producerSide.canonicalBytes() == (try v.vector("escalation-producer-v1")))
        #expect(try Record(canonicalBytes: v.vector("escalation-producer-v1")) == .escalation(producerSide))
        let consumerSide = try Escalation(role: .consumer, producerTNTBefore: 0, decision: signed)
        #expect(consumerSide.canonicalBytes() == (try v.vector("escalation-consumer-v1")))
        #expect(try Escalation(canonicalBytes: v.vector("escalation-consumer-v1")[...]) == consumerSide)

        let certificate = try SignedGatewayCertificate(bytes: v.vector("signed-gateway-certificate-v1"))
        let authority = AuthorityRecord(rootKey: Self.root.publicIdentity, certificate: certificate, timestamp: t)
        #expect(authority.canonicalBytes() == (try v.vector("authority-v1")))
        #expect(try Record(canonicalBytes: v.vector("authority-v1")) == .authority(authority))
        #expect(RecordType.escalation.isGatewayAuthored && RecordType.authority.isGatewayAuthored)

        // Strict decoding.
        #expect(throws: RecordDecodingError.self) { try SignedEscalationDecision(bytes: signed.bytes + [0]) }
        #expect(throws: RecordDecodingError.self) {
            try Escalation(role: .consumer, producerTNTBefore: 1, decision: signed)
        }
        #expect(throws: RecordDecodingError.self) {
            try EscalationDecision(
                issuer: Self.root.id,
                decisionID: 1,
                consumerGateway: Self.g1.id,
                requestHash: requestHash,
                consumer: TestKeys.consumer.id,
                requestSequence: 3,
                energyWh: 1200,
                producerGateway: Self.g1.id,
                producer: TestKeys.producer.id,
                decidedAt: t
            )
        }
        var badLength = try v.vector("escalation-consumer-v1")
        badLength[12] = 0xd1
        #expect(throws: RecordDecodingError.self) { try Escalation(canonicalBytes: badLength[...]) }
        var badRole = try v.vector("escalation-consumer-v1")
        badRole[2] = 3
        #expect(throws: RecordDecodingError.self) { try Escalation(canonicalBytes: badRole[...]) }
        #expect(throws: RecordDecodingError.self) {
            try AuthorityRecord(canonicalBytes: (v.vector("authority-v1") + [0])[...])
        }
    }

    // MARK: two chains

    /// The consumer's gateway G1 (no producer with energy) and the producer's gateway G2.
    struct Pair {
        var g1 = ChainFixture(maxEntries: 4, consumers: 1, producers: 1, gateway: EscalationTests.g1)
        var g2 = ChainFixture(maxEntries: 4, consumers: 1, producers: 2, gateway: EscalationTests.g2)
        var nextDecision: UInt64 = 1

        var consumer: SigningIdentity { g1.consumers[0] }
        var producer: SigningIdentity { g2.producers[0] }

        static func make(authority: Bool = true, producerWh: UInt64 = 5000) throws -> Pair {
            var p = Pair()
            try p.g1.enrollAll()
            try p.g2.enrollAll()
            if authority {
                try p.g1.addGateway(.authority(Self.authority(for: EscalationTests.g1)))
                try p.g2.addGateway(.authority(Self.authority(for: EscalationTests.g2)))
            }
            try p.g2.offer(p.producer, producerWh)
            return p
        }

        static func authority(for gateway: SigningIdentity) throws -> AuthorityRecord {
            let cert = try SignedGatewayCertificate.sign(
                GatewayCertificate(
                    issuer: EscalationTests.root.id,
                    gatewayKey: gateway.publicIdentity,
                    serial: 1,
                    issuedAt: TestKeys.baseTime,
                    name: "g"
                ),
                with: EscalationTests.root
            )
            return AuthorityRecord(
                rootKey: EscalationTests.root.publicIdentity,
                certificate: cert,
                timestamp: TestKeys.baseTime
            )
        }

        /// G1 records a request of `wh` it cannot serve; returns it and its hash.
        mutating func unservedRequest(_ wh: UInt64) throws -> (EnergyRequest, Hash256) {
            try g1.request(consumer, wh)
            let seq = g1.requestSeq[consumer.id] ?? 0
            let request = try EnergyRequest(
                consumer: consumer.id,
                sequence: seq,
                energyWh: wh,
                timestamp: g1.time - 1000
            )
            let open = try #require(g1.builder.state.escalatableRequest(of: consumer.id))
            #expect(open.request == request.reference)
            return (request, open.requestHash)
        }

        mutating func decision(
            _ request: EnergyRequest,
            hash: Hash256,
            producer: MeterID? = nil,
            signer: SigningIdentity = EscalationTests.root,
            consumerGateway: GatewayID = EscalationTests.g1.id,
            producerGateway: GatewayID = EscalationTests.g2.id,
            id: UInt64? = nil,
            energyWh: UInt64? = nil
        ) throws -> SignedEscalationDecision {
            let decisionID = id ?? nextDecision
            nextDecision = max(nextDecision, decisionID) + 1
            return try SignedEscalationDecision.sign(
                EscalationDecision(
                    issuer: signer.id,
                    decisionID: decisionID,
                    consumerGateway: consumerGateway,
                    requestHash: hash,
                    consumer: request.consumer,
                    requestSequence: request.sequence,
                    energyWh: energyWh ?? request.energyWh,
                    producerGateway: producerGateway,
                    producer: producer ?? self.producer.id,
                    decidedAt: g1.time
                ),
                with: signer
            )
        }

        mutating func producerSide(_ d: SignedEscalationDecision) throws {
            let tnt = g2.builder.state.tnt.status(of: d.decision.producer)?.tnt ?? 0
            try g2.addGateway(.escalation(Escalation(role: .producer, producerTNTBefore: tnt, decision: d)))
        }

        mutating func consumerSide(_ d: SignedEscalationDecision) throws {
            try g1.addGateway(.escalation(Escalation(role: .consumer, producerTNTBefore: 0, decision: d)))
        }
    }

    @Test func correctPairOfChainsVerifies() throws {
        var p = try Pair.make()
        let (request, hash) = try p.unservedRequest(1200)
        let d = try p.decision(request, hash: hash)
        try p.producerSide(d)
        try p.consumerSide(d)
        #expect(p.g1.builder.state.escalatableRequest(of: p.consumer.id) == nil)
        #expect(p.g2.builder.state.hasEscalation(decisionID: d.decision.decisionID))
        let status = try #require(p.g2.builder.state.tnt.status(of: p.producer.id))
        #expect(status.availableWh == 3800 && status.servedWh == 1200 && status.tnt == 1 && status.creditedWh == 5000)
        // A local request afterwards sees the debited producer.
        try p.g2.request(p.g2.consumers[0], 3900)
        #expect(p.g2.builder.state.tnt.status(of: p.producer.id)?.availableWh == 3800)
        try p.g1.finish()
        try p.g2.finish()
        let v1 = try ChainVerifier(gatewayKey: Self.g1.publicIdentity).verify(blocks: p.g1.blocks)
        let v2 = try ChainVerifier(gatewayKey: Self.g2.publicIdentity).verify(blocks: p.g2.blocks)
        #expect(v1.state.tnt.digest() == p.g1.builder.state.tnt.digest())
        #expect(v2.state.tnt.digest() == p.g2.builder.state.tnt.digest())
        #expect(v2.state.tnt.status(of: p.producer.id)?.servedWh == 1200)
        // The auditor (the super node's) agrees block by block.
        var auditor = ChainAuditor(gatewayKey: Self.g2.publicIdentity)
        for block in p.g2.blocks { try auditor.append(block) }
    }

    /// The builder (and so the gateway's writer) refuses what the verifier would.
    func refusal(_ body: () throws -> Void) -> RuleViolation? {
        do {
            try body()
            return nil
        } catch let BuilderError.ruleViolation(v) {
            return v
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    /// A forged chain: `entries` re-sealed by the gateway with no rule checks, then verified.
    func verifyForged(_ entries: [SignedRecord], gateway: SigningIdentity) -> VerificationFailure? {
        do {
            var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 4, maxAgeMilliseconds: .max))
            builder.forging = true
            var blocks: [Block] = []
            var time = TestKeys.baseTime
            for entry in entries {
                time += 1000
                if let block = try builder.add(entry, at: time) { blocks.append(block) }
            }
            if let block = try builder.seal(at: time) { blocks.append(block) }
            _ = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: blocks)
            return nil
        } catch let failure as VerificationFailure {
            return failure
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func entries(_ f: ChainFixture) -> [SignedRecord] {
        var f = f
        do { try f.finish() } catch { Issue.record("\(error)") }
        return f.blocks.flatMap(\.entries)
    }

    @Test func decisionNotSignedByRootIsRefused() throws {
        var p = try Pair.make()
        let (request, hash) = try p.unservedRequest(1200)
        let forged = try p.decision(request, hash: hash, signer: TestKeys.meter)
        let violation = refusal { try p.producerSide(forged) }
        guard case .escalationNotSignedByRoot? = violation else {
            Issue.record("got \(String(describing: violation))")
            return
        }
        #expect(refusal { try p.consumerSide(forged) } != nil)
        // The same record on a chain the gateway signed anyway fails verification.
        let record = Self.g2.signed(
            .escalation(try Escalation(role: .producer, producerTNTBefore: 0, decision: forged))
        )
        let failure = verifyForged(entries(p.g2) + [record], gateway: Self.g2)
        guard case .ruleViolation(.escalationNotSignedByRoot)? = failure?.problem else {
            Issue.record("got \(String(describing: failure))")
            return
        }
    }

    @Test func wrongGatewayIsRefused() throws {
        var p = try Pair.make()
        let (request, hash) = try p.unservedRequest(1200)
        let d = try p.decision(request, hash: hash)
        // G1 is not the producer gateway; G2 is not the consumer gateway.
        let onG1 = refusal {
            try p.g1.addGateway(.escalation(Escalation(role: .producer, producerTNTBefore: 0, decision: d)))
        }
        guard case .escalationWrongGateway? = onG1 else {
            Issue.record("got \(String(describing: onG1))")
            return
        }
        let onG2 = refusal {
            try p.g2.addGateway(.escalation(Escalation(role: .consumer, producerTNTBefore: 0, decision: d)))
        }
        guard case .escalationWrongGateway? = onG2 else {
            Issue.record("got \(String(describing: onG2))")
            return
        }
        let record = Self.g1.signed(.escalation(try Escalation(role: .producer, producerTNTBefore: 0, decision: d)))
        let failure = verifyForged(entries(p.g1) + [record], gateway: Self.g1)
        guard case .ruleViolation(.escalationWrongGateway)? = failure?.problem else {
            Issue.record("got \(String(describing: failure))")
            return
        }
    }

    @Test func producerWithoutEnergyIsRefused() throws {
        var p = try Pair.make(producerWh: 1000)
        let (request, hash) = try p.unservedRequest(1200)
        let d = try p.decision(request, hash: hash)
        let violation = refusal { try p.producerSide(d) }
        guard case .tnt(.infeasibleEscalation)? = violation else {
            Issue.record("got \(String(describing: violation))")
            return
        }
        // Nor a producer of another gateway, nor a consumer.
        let strangerID = TestKeys.key(0x77).id
        let stranger = try p.decision(request, hash: hash, producer: strangerID)
        #expect(refusal { try p.producerSide(stranger) } == .tnt(.notEnrolled(strangerID)))
        // Nor a wrong TNT before.
        var q = try Pair.make()
        let (r2, h2) = try q.unservedRequest(100)
        let d2 = try q.decision(r2, hash: h2)
        let wrongTNT = refusal {
            try q.g2.addGateway(.escalation(Escalation(role: .producer, producerTNTBefore: 7, decision: d2)))
        }
        guard case .tnt(.escalationTNTMismatch)? = wrongTNT else {
            Issue.record("got \(String(describing: wrongTNT))")
            return
        }
        // A forged chain that records it anyway fails verification.
        let record = Self.g2.signed(.escalation(try Escalation(role: .producer, producerTNTBefore: 0, decision: d)))
        let failure = verifyForged(entries(p.g2) + [record], gateway: Self.g2)
        guard case .ruleViolation(.tnt(.infeasibleEscalation))? = failure?.problem else {
            Issue.record("got \(String(describing: failure))")
            return
        }
    }

    @Test func consumerSideNeedsAnUnservedRequestOnTheChain() throws {
        var p = try Pair.make()
        // A request that was never on G1's chain.
        let ghost = try EnergyRequest(consumer: p.consumer.id, sequence: 99, energyWh: 100, timestamp: t)
        let ghostDecision = try p.decision(ghost, hash: Hash256.sha256(ghost.canonicalBytes()))
        let none = refusal { try p.consumerSide(ghostDecision) }
        guard case .escalationNotEscalatable? = none else {
            Issue.record("got \(String(describing: none))")
            return
        }

        // A request G1 served locally.
        try p.g1.offer(p.g1.producers[0], 500)
        try p.g1.request(p.consumer, 200)
        let seq = try #require(p.g1.requestSeq[p.consumer.id])
        let served = try EnergyRequest(consumer: p.consumer.id, sequence: seq, energyWh: 200, timestamp: t)
        #expect(p.g1.builder.state.escalatableRequest(of: p.consumer.id) == nil)
        let servedDecision = try p.decision(served, hash: Hash256.sha256(served.canonicalBytes()))
        let refused = refusal { try p.consumerSide(servedDecision) }
        guard case .escalationNotEscalatable? = refused else {
            Issue.record("got \(String(describing: refused))")
            return
        }

        // An unserved one, but with another hash or amount; then escalated once only.
        let (request, hash) = try p.unservedRequest(1200)
        #expect(refusal { try p.consumerSide(try p.decision(request, hash: .zero)) } != nil)
        #expect(refusal { try p.consumerSide(try p.decision(request, hash: hash, energyWh: 1100)) } != nil)
        let good = try p.decision(request, hash: hash)
        try p.consumerSide(good)
        let again = refusal { try p.consumerSide(try p.decision(request, hash: hash)) }
        guard case .escalationNotEscalatable? = again else {
            Issue.record("got \(String(describing: again))")
            return
        }

        // Verification of a forged chain escalating the served request.
        let record = Self.g1.signed(
            .escalation(try Escalation(role: .consumer, producerTNTBefore: 0, decision: servedDecision))
        )
        let failure = verifyForged(entries(p.g1) + [record], gateway: Self.g1)
        guard case .ruleViolation(.escalationNotEscalatable)? = failure?.problem else {
            Issue.record("got \(String(describing: failure))")
            return
        }
    }

    @Test func duplicateDecisionIDIsRefused() throws {
        var p = try Pair.make()
        let (request, hash) = try p.unservedRequest(100)
        let d = try p.decision(request, hash: hash)
        try p.producerSide(d)
        let twice = refusal { try p.producerSide(d) }
        #expect(twice == .escalationReplayed(decisionID: d.decision.decisionID))
        // Another request's decision reusing the id, too.
        let (r2, h2) = try p.unservedRequest(100)
        let reused = try p.decision(r2, hash: h2, id: d.decision.decisionID)
        #expect(refusal { try p.producerSide(reused) } == .escalationReplayed(decisionID: d.decision.decisionID))
        let record = Self.g2.signed(.escalation(try Escalation(role: .producer, producerTNTBefore: 1, decision: d)))
        let failure = verifyForged(entries(p.g2) + [record], gateway: Self.g2)
        #expect(failure?.problem == .ruleViolation(.escalationReplayed(decisionID: d.decision.decisionID)))
    }

    @Test func escalationNeedsAnAuthorityRecord() throws {
        var p = try Pair.make(authority: false)
        let (request, hash) = try p.unservedRequest(100)
        let d = try p.decision(request, hash: hash)
        #expect(refusal { try p.producerSide(d) } == .escalationWithoutAuthority(decisionID: d.decision.decisionID))
        #expect(refusal { try p.consumerSide(d) } == .escalationWithoutAuthority(decisionID: d.decision.decisionID))
        // An authority record must carry this gateway's certificate from that root key.
        let foreign = try Pair.authority(for: Self.g2)
        guard case .authorityMismatch? = refusal({ try p.g1.addGateway(.authority(foreign)) }) else {
            Issue.record("foreign certificate accepted")
            return
        }
        let otherRoot = AuthorityRecord(
            rootKey: TestKeys.meter.publicIdentity,
            certificate: try Pair.authority(for: Self.g1).certificate,
            timestamp: t
        )
        guard case .authorityMismatch? = refusal({ try p.g1.addGateway(.authority(otherRoot)) }) else {
            Issue.record("wrong root accepted")
            return
        }
    }
}

import Foundation
import GRDB
import GridAPI
import Hummingbird
import HummingbirdTesting
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

/// Offers, requests and dispatch through `POST /v1/offers` and `POST /v1/requests`.
@Suite("Trading over HTTP: offers, requests, TNT dispatch")
struct TradingAPITests {
    /// Offers are not backed by export readings in most tests: a tolerance covers them.
    static let generous = ChainWriterConfig(trading: TradingPolicy(policy: .lowestTNT, offerToleranceWh: 1_000_000))

    struct Trader {
        let h: Harness
        var sequences: [MeterID: UInt64] = [:]

        mutating func next(_ meter: SigningIdentity) -> UInt64 {
            sequences[meter.id, default: 0] += 1
            return sequences[meter.id]!
        }

        mutating func offer(
            _ producer: SigningIdentity,
            _ wh: UInt64,
            status: HTTPResponse.Status = .ok
        ) async throws -> OfferResponse {
            let offer = try Offer(
                producer: producer.id,
                sequence: next(producer),
                energyWh: wh,
                validFrom: h.clock.now,
                validUntil: h.clock.now + 900_000
            )
            return try await h.trade(
                "/v1/offers",
                try SignedRecord.sign(.offer(offer), with: producer),
                as: OfferResponse.self,
                status: status
            )
        }

        mutating func request(
            _ consumer: SigningIdentity,
            _ wh: UInt64,
            status: HTTPResponse.Status = .ok
        ) async throws -> DispatchResponse {
            let request = try EnergyRequest(
                consumer: consumer.id,
                sequence: next(consumer),
                energyWh: wh,
                timestamp: h.clock.now
            )
            return try await h.trade(
                "/v1/requests",
                try SignedRecord.sign(.request(request), with: consumer),
                as: DispatchResponse.self,
                status: status
            )
        }
    }

    /// The issue's worked example: water 1000 Wh, wind 6000 Wh, solar 900 Wh with TNT 1, 2
    /// and 3; 600 Wh goes to water (TNT 2, 400 Wh left), the next 600 Wh to wind.
    @Test func workedExample() async throws {
        let h = try await Harness.make(config: Self.generous)
        defer { h.close() }
        let (water, wind, solar, home) = (SigningIdentity(), SigningIdentity(), SigningIdentity(), SigningIdentity())
        for p in [water, wind, solar] { try await h.enroll(p, role: .producer) }
        try await h.enroll(home, role: .consumer)
        var t = Trader(h: h)
        // History giving TNT 3, 2, 1: each producer alone has energy while it serves.
        for (producer, count) in [(solar, 3), (wind, 2), (water, 1)] {
            #expect(try await t.offer(producer, UInt64(count)).status == .accepted)
            for _ in 0..<count {
                let d = try await t.request(home, 1)
                #expect(d.shares.map(\.producer) == [producer.id.hex])
            }
        }
        for (producer, wh) in [(water, 1000), (wind, 6000), (solar, 900)] {
            let o = try await t.offer(producer, UInt64(wh))
            #expect(o.status == .accepted && o.creditedWh == UInt64(wh) && o.availableWh == UInt64(wh))
        }
        let first = try await t.request(home, 600)
        #expect(first.status == .served)
        #expect(first.policy == "lowest-tnt")
        #expect(first.shares == [DispatchShareView(producer: water.id.hex, energyWh: 600, tntBefore: 1, tntAfter: 2)])
        let waterNow = await h.gateway.writer.tntState().status(of: water.id)
        #expect(waterNow?.tnt == 2 && waterNow?.availableWh == 400)

        let second = try await t.request(home, 600)
        #expect(second.shares == [DispatchShareView(producer: wind.id.hex, energyWh: 600, tntBefore: 2, tntAfter: 3)])

        // Nobody has 7000 Wh: unserved, recorded, with the reason.
        let big = try await t.request(home, 7000)
        #expect(big.status == .unserved && big.reason == .insufficientEnergy && big.shares.isEmpty)
        #expect(big.detail?.contains("5400 Wh") == true, "names the largest available: \(big.detail ?? "")")

        // Everything is on the chain and a replay (the verifier) agrees with every decision.
        await h.gateway.writer.sealNow()
        let verified = try ChainVerifier(gatewayKey: h.gateway.writer.gatewayKey.publicIdentity).verify(
            h.gateway.writer.store
        )
        #expect(verified.state.tnt.status(of: wind.id)?.availableWh == 5400)
        #expect(verified.state.tnt.digest() == (await h.gateway.writer.tntState().digest()))
    }

    /// Many requests at once against one producer: the writer decides them one at a time,
    /// so the producer's energy is never given out twice.
    @Test func concurrentRequestsNeverOverAllocate() async throws {
        let h = try await Harness.make(config: Self.generous)
        defer { h.close() }
        let producer = SigningIdentity()
        try await h.enroll(producer, role: .producer)
        var t = Trader(h: h)
        _ = try await t.offer(producer, 1000)
        let consumers = (0..<20).map { _ in SigningIdentity() }
        for c in consumers { try await h.enroll(c) }
        let now = h.clock.now
        let answers = try await withThrowingTaskGroup(of: DispatchResponse.self) { group in
            for c in consumers {
                group.addTask {
                    let r = try EnergyRequest(consumer: c.id, sequence: 1, energyWh: 100, timestamp: now)
                    return try await h.trade(
                        "/v1/requests",
                        try SignedRecord.sign(.request(r), with: c),
                        as: DispatchResponse.self
                    )
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let served = answers.filter { $0.status == .served }
        #expect(served.count == 10)
        #expect(answers.filter { $0.status == .unserved }.count == 10)
        #expect(served.flatMap(\.shares).reduce(0) { $0 + $1.energyWh } == 1000)
        #expect(Set(served.flatMap(\.shares).map(\.tntBefore)) == Set(0..<10))
        let status = await h.gateway.writer.tntState().status(of: producer.id)
        #expect(status?.availableWh == 0 && status?.tnt == 10 && status?.servedWh == 1000)
    }

    /// Each refusal has its reason and a status the sender can act on; nothing refused
    /// reaches the chain.
    @Test func refusalsAreNamed() async throws {
        let h = try await Harness.make(config: Self.generous)
        defer { h.close() }
        let (producer, consumer, stranger) = (SigningIdentity(), SigningIdentity(), SigningIdentity())
        try await h.enroll(producer, role: .producer)
        try await h.enroll(consumer)
        var t = Trader(h: h)
        _ = try await t.offer(producer, 500)
        let entriesBefore = await h.gateway.writer.health().entries

        #expect(try await t.request(stranger, 10, status: .forbidden).reason == .unknownMeter)
        #expect(try await t.offer(consumer, 10, status: .forbidden).reason == .wrongRole)
        #expect(try await t.request(producer, 10, status: .forbidden).reason == .wrongRole)

        // Forged: signed by another key under the consumer's name.
        let forged = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 5, energyWh: 10, timestamp: h.clock.now)),
            with: stranger
        )
        #expect(
            try await h.trade("/v1/requests", forged, as: DispatchResponse.self, status: .forbidden).reason
                == .badSignature
        )
        // A reading is not a request.
        let reading = try h.reading(consumer, 1)
        #expect(
            try await h.trade("/v1/requests", reading, as: DispatchResponse.self, status: .badRequest).reason
                == .wrongRecordType
        )
        // Too far from the gateway clock.
        let late = try SignedRecord.sign(
            .request(
                EnergyRequest(consumer: consumer.id, sequence: 9, energyWh: 10, timestamp: h.clock.now - 3_600_000)
            ),
            with: consumer
        )
        #expect(
            try await h.trade("/v1/requests", late, as: DispatchResponse.self, status: .unprocessableContent).reason
                == .timestampSkew
        )
        // An offer for an interval already over.
        let stale = try SignedRecord.sign(
            .offer(
                Offer(
                    producer: producer.id,
                    sequence: 9,
                    energyWh: 10,
                    validFrom: h.clock.now - 7200_000,
                    validUntil: h.clock.now - 3600_000
                )
            ),
            with: producer
        )
        #expect(
            try await h.trade("/v1/offers", stale, as: OfferResponse.self, status: .unprocessableContent).reason
                == .timestampSkew
        )
        // Not JSON, not base64.
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/requests",
                method: .post,
                headers: .json,
                body: ByteBuffer(string: "{\"record\": 5}")
            ) {
                response in
                #expect(response.status == .badRequest)
                let answer = try JSONDecoder().decode(DispatchResponse.self, from: Data(buffer: response.body))
                #expect(answer.reason == .malformed && answer.detail?.contains("TradeSubmission") == true)
            }
            try await client.execute(
                uri: "/v1/offers",
                method: .post,
                headers: .json,
                body: ByteBuffer(string: "{\"record\": \"***\"}")
            ) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(await h.gateway.writer.health().entries == entriesBefore, "refused records are not stored")

        // Sequence: a resent copy gets the recorded decision again; a lower or reused
        // sequence with other contents is refused.
        let request = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 100, energyWh: 50, timestamp: h.clock.now)),
            with: consumer
        )
        let first = try await h.trade("/v1/requests", request, as: DispatchResponse.self)
        let again = try await h.trade("/v1/requests", request, as: DispatchResponse.self)
        #expect(first.status == .served && again.status == .duplicate && again.shares == first.shares)
        let other = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 100, energyWh: 60, timestamp: h.clock.now)),
            with: consumer
        )
        #expect(
            try await h.trade("/v1/requests", other, as: DispatchResponse.self, status: .conflict).reason
                == .conflictingDuplicate
        )
        let lower = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 50, energyWh: 60, timestamp: h.clock.now)),
            with: consumer
        )
        #expect(
            try await h.trade("/v1/requests", lower, as: DispatchResponse.self, status: .conflict).reason
                == .staleSequence
        )
        #expect(
            await h.gateway.writer.tntState().status(of: producer.id)?.availableWh == 450,
            "the duplicate did not take energy twice"
        )

        // After a restart the chain still knows the last request.
        await h.gateway.writer.sealNow()
        h.close()
        let reopened = try await h.reopen()
        defer { reopened.close() }
        let afterRestart = try await reopened.trade("/v1/requests", request, as: DispatchResponse.self)
        #expect(afterRestart.status == .duplicate && afterRestart.shares == first.shares)
        let metrics = reopened.gateway.metrics.exposition()
        #expect(metrics.contains(#"gateway_requests_total{status="duplicate"} 1"#))
    }

    /// Value verification: an offer beyond metered export plus tolerance is cut to it and
    /// an anomaly goes on the chain; with nothing left, the offer is refused.
    @Test func offersAreCutToMeteredExport() async throws {
        let h = try await Harness.make(
            config: ChainWriterConfig(trading: TradingPolicy(policy: .lowestTNT, offerToleranceWh: 50))
        )
        defer { h.close() }
        let producer = SigningIdentity()
        try await h.enroll(producer, role: .producer)
        func exportReading(_ seq: UInt64, _ exportWh: Int64) throws -> SignedRecord {
            let r = try Reading(
                meter: producer.id,
                sequence: seq,
                timestamp: h.clock.now,
                values: [
                    MeasuredValue(.energyImportWh, 0), MeasuredValue(.energyExportWh, exportWh),
                    MeasuredValue(.activePowerW, -2000), MeasuredValue(.voltageL1dV, 2300),
                ].sorted { $0.measurand < $1.measurand }
            )
            return try SignedRecord.sign(.reading(r), with: producer)
        }
        _ = try await h.post([try exportReading(1, 10_000)])
        h.clock.advance(ms: 3_600_000)
        _ = try await h.post([try exportReading(2, 10_250)])  // 250 Wh exported in an hour at 2 kW

        var t = Trader(h: h)
        let cut = try await t.offer(producer, 400)
        #expect(cut.status == .accepted)
        #expect(cut.creditedWh == 300 && cut.cutWh == 100 && cut.availableWh == 300)
        #expect(cut.detail?.contains("exported 250 Wh") == true)
        let nothing = try await t.offer(producer, 10, status: .unprocessableContent)
        #expect(nothing.status == .rejected && nothing.reason == .noMeteredProduction)
        // More refused offers (and copies of one) within 10 minutes add no evidence.
        let refused = try SignedRecord.sign(
            .offer(
                Offer(
                    producer: producer.id,
                    sequence: 99,
                    energyWh: 10,
                    validFrom: h.clock.now,
                    validUntil: h.clock.now + 60_000
                )
            ),
            with: producer
        )
        for _ in 0..<3 {
            #expect(
                try await h.trade("/v1/offers", refused, as: OfferResponse.self, status: .unprocessableContent).reason
                    == .noMeteredProduction
            )
        }

        let anomalies = await h.gateway.writer.pendingEntries(type: .anomaly).compactMap { p -> Anomaly? in
            if case let .anomaly(a) = p.entry.record { return a } else { return nil }
        }
        #expect(anomalies.filter { $0.kind == .offerExceedsProduction && $0.subject == producer.id }.count == 2)
        #expect(h.gateway.metrics.exposition().contains(#"gateway_anomalies_total{kind="offer-exceeds-production"} 2"#))
    }

    /// A dishonest gateway edits a dispatch to favour another producer, re-signs it and
    /// re-seals every block with its own key: signatures and roots hold, and
    /// `edge-gateway verify` still names the dispatch the TNT rule would not have made.
    @Test func unfairDispatchEditedIntoTheStoreFailsVerify() async throws {
        let h = try await Harness.make(config: Self.generous)
        let (water, wind, home) = (SigningIdentity(), SigningIdentity(), SigningIdentity())
        try await h.enroll(water, role: .producer)
        try await h.enroll(wind, role: .producer)
        try await h.enroll(home)
        var t = Trader(h: h)
        _ = try await t.offer(water, 1000)
        _ = try await t.offer(wind, 1000)
        let fair = try await t.request(home, 300)
        await h.gateway.writer.sealNow()
        h.close()
        #expect(try VerifyCommand.check(h.dir).ok)

        let gatewayKey = try h.dir.loadKey()
        let original = try ChainStore(path: h.dir.chainPath, check: .none)
        var entries: [SignedRecord] = []
        for height in 0..<(try original.blockCount()) {
            entries += try #require(try original.block(atHeight: height)).entries
        }
        let index = try #require(entries.firstIndex { if case .dispatch = $0.record { true } else { false } })
        guard case let .dispatch(d) = entries[index].record, case let .served(producer, amount, tnt) = d.outcome else {
            Issue.record("no served dispatch")
            return
        }
        #expect(producer.hex == fair.shares.first?.producer)
        let other = producer == water.id ? wind.id : water.id
        entries[index] = try SignedRecord.sign(
            .dispatch(
                Dispatch(
                    request: d.request,
                    outcome: .served(producer: other, energyWh: amount, producerTNTBefore: tnt)
                )
            ),
            with: gatewayKey
        )
        var forger = BlockBuilder(gateway: gatewayKey, policy: SealPolicy(maxEntries: 3, maxAgeMilliseconds: .max))
        forger.forging = true
        try FileManager.default.removeItem(atPath: h.dir.chainPath)
        let forged = try ChainStore(path: h.dir.chainPath, check: .none)
        for entry in entries {
            if let block = try forger.add(entry, at: h.clock.now) { try forged.append(block) }
        }
        if let block = try forger.seal(at: h.clock.now) { try forged.append(block) }

        let summary = try VerifyCommand.check(h.dir)
        #expect(!summary.ok)
        #expect(summary.failure?.entryIndex == UInt64(index))
        #expect(summary.failure?.problem.contains("TNT rule gives") == true, "\(summary.failure?.problem ?? "")")
    }

    /// When the journal cannot be written, nothing of the group is kept: the answer is
    /// `retry` (503), the producer's energy is untouched, and a resend works once the disk
    /// is back.
    @Test func journalFailureLosesNothingAndAllocatesNothing() async throws {
        let h = try await Harness.make(config: Self.generous)
        defer { h.close() }
        let (producer, consumer) = (SigningIdentity(), SigningIdentity())
        try await h.enroll(producer, role: .producer)
        try await h.enroll(consumer)
        var t = Trader(h: h)
        _ = try await t.offer(producer, 1000)
        let journal = try DatabaseQueue(path: h.dir.journalPath)
        try await journal.write {
            try $0.execute(
                sql:
                    "CREATE TRIGGER full_disk BEFORE INSERT ON pending BEGIN SELECT RAISE(FAIL, 'disk full (test)'); END"
            )
        }
        let request = try SignedRecord.sign(
            .request(EnergyRequest(consumer: consumer.id, sequence: 7, energyWh: 400, timestamp: h.clock.now)),
            with: consumer
        )
        let deferred = try await h.trade(
            "/v1/requests",
            request,
            as: DispatchResponse.self,
            status: .serviceUnavailable
        )
        #expect(deferred.status == .retry && deferred.reason == .storage)
        let untouched = await h.gateway.writer.tntState().status(of: producer.id)
        #expect(untouched?.availableWh == 1000 && untouched?.tnt == 0)

        try await journal.write { try $0.execute(sql: "DROP TRIGGER full_disk") }
        let served = try await h.trade("/v1/requests", request, as: DispatchResponse.self)
        #expect(served.status == .served && served.shares.first?.energyWh == 400)
        #expect(await h.gateway.writer.tntState().status(of: producer.id)?.availableWh == 600)
    }

    /// If the writer cannot even resume from the store and the journal after a failed
    /// journal write, it refuses every write (503, `retry`) until restarted, instead of
    /// going on with a trade that is not durable.
    @Test func writerHaltsWhenItCannotResume() async throws {
        let h = try await Harness.make(config: Self.generous)
        let (producer, consumer) = (SigningIdentity(), SigningIdentity())
        try await h.enroll(producer, role: .producer)
        try await h.enroll(consumer)
        var t = Trader(h: h)
        _ = try await t.offer(producer, 1000)
        let journal = try DatabaseQueue(path: h.dir.journalPath)
        try await journal.write { try $0.execute(sql: "ALTER TABLE pending RENAME TO pending_away") }
        let first = try await t.request(consumer, 100, status: .serviceUnavailable)
        #expect(first.status == .retry)
        try await journal.write { try $0.execute(sql: "ALTER TABLE pending_away RENAME TO pending") }
        let second = try await t.request(consumer, 100, status: .serviceUnavailable)
        #expect(second.detail?.contains("restart") == true, "\(second.detail ?? "")")
        #expect(try await h.post([try h.reading(consumer, 1)]).first?.status == .retry)
        #expect(h.logs.all.contains { $0.contains("refusing every write") })
        h.close()

        let restarted = try await h.reopen()
        defer { restarted.close() }
        var again = Trader(h: restarted, sequences: t.sequences)
        let served = try await again.request(consumer, 100)
        #expect(served.status == .served)
        #expect(
            await restarted.gateway.writer.tntState().status(of: producer.id)?.availableWh == 900,
            "the refused requests took nothing"
        )
    }

    /// The split policy, recorded on the chain: a request no single producer covers is
    /// shared in TNT order; the chain verifies with it.
    @Test func splitPolicyIsRecordedAndApplied() async throws {
        let h = try await Harness.make(
            config: ChainWriterConfig(trading: TradingPolicy(policy: .splitTNT, offerToleranceWh: 1_000_000))
        )
        defer { h.close() }
        let (a, b, home) = (SigningIdentity(), SigningIdentity(), SigningIdentity())
        try await h.enroll(a, role: .producer)
        try await h.enroll(b, role: .producer)
        try await h.enroll(home)
        var t = Trader(h: h)
        _ = try await t.offer(a, 300)
        _ = try await t.offer(b, 500)
        let single = try await t.request(home, 400)
        #expect(single.policy == "split-tnt" && single.shares.count == 1 && single.shares[0].producer == b.id.hex)
        // Left: a 300 (TNT 0), b 100 (TNT 1). 350 Wh needs both, lowest TNT first.
        let split = try await t.request(home, 350)
        #expect(split.status == .served)
        #expect(
            split.shares == [
                DispatchShareView(producer: a.id.hex, energyWh: 300, tntBefore: 0, tntAfter: 1),
                DispatchShareView(producer: b.id.hex, energyWh: 50, tntBefore: 1, tntAfter: 2),
            ]
        )
        #expect(try await t.request(home, 100).status == .unserved)

        await h.gateway.writer.sealNow()
        let verified = try ChainVerifier(gatewayKey: h.gateway.writer.gatewayKey.publicIdentity).verify(
            h.gateway.writer.store
        )
        #expect(verified.state.tnt.policy == .splitTNT)
        // Reopening without a configured policy keeps the chain's; configuring the plain
        // rule records the change.
        h.close()
        let kept = try await h.reopen()
        #expect(await kept.gateway.writer.tntState().policy == .splitTNT)
        kept.close()
        let changed = try await h.reopen(config: ChainWriterConfig(trading: TradingPolicy()))
        defer { changed.close() }
        #expect(await changed.gateway.writer.tntState().policy == .lowestTNT)
        #expect(await changed.gateway.writer.tntState().offerToleranceWh == 0)
    }
}

extension Harness {
    /// Posts one signed record to a trading endpoint and decodes the answer.
    func trade<T: Decodable & Sendable>(
        _ uri: String,
        _ entry: SignedRecord,
        as: T.Type,
        status: HTTPResponse.Status = .ok
    ) async throws -> T {
        let body = try JSONEncoder().encode(TradeSubmission(signed: entry))
        return try await app().test(.router) { client in
            try await client.execute(uri: uri, method: .post, headers: .json, body: ByteBuffer(bytes: body)) {
                response in
                #expect(response.status == status, "\(uri): \(String(buffer: response.body))")
                return try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
            }
        }
    }
}

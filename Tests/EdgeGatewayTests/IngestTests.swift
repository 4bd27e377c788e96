import Foundation
import GRDB
import GridAPI
import Hummingbird
import HummingbirdTesting
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite

@Suite("POST /v1/readings")
struct IngestTests {
    @Test func acceptsReadingsInSequenceAndSealsThem() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let results = try await h.post([try h.reading(meter, 1), try h.reading(meter, 2), try h.reading(meter, 3)])
        #expect(results.map(\.summary) == ["accepted", "accepted", "accepted"])
        #expect(results.map(\.sequence) == [1, 2, 3])
        #expect(results.allSatisfy { $0.meter == meter.id.hex && $0.isAcknowledged })
        #expect(await h.gateway.writer.health().pending == 3)
        await h.gateway.writer.sealNow()
        let health = await h.gateway.writer.health()
        #expect(health.pending == 0)
        #expect(try h.gateway.writer.store.reading(meter: meter.id, sequence: 3) != nil)
    }

    @Test func everyRejectionReason() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        let stranger = SigningIdentity()
        let other = SigningIdentity()
        let revoked = SigningIdentity()
        let producer = SigningIdentity()
        try await h.enroll(meter)
        try await h.enroll(other)
        try await h.enroll(revoked)
        try await h.enroll(producer, role: .producer)
        _ = try await h.gateway.writer.revoke(revoked.id)

        // One byte of the signature flipped.
        var flipped = try h.reading(meter, 1).bytes
        flipped[flipped.count - 5] ^= 0x01
        // A reading naming `meter`, signed by `other` (an enrolled key).
        let named = try Reading(
            meter: meter.id,
            sequence: 1,
            timestamp: h.clock.now,
            values: [MeasuredValue(.energyImportWh, 1)]
        )
        let mismatch = try SignedRecord.sign(.reading(named), with: other)
        let offer = try SignedRecord.sign(
            .offer(
                Offer(
                    producer: producer.id,
                    sequence: 1,
                    energyWh: 100,
                    validFrom: h.clock.now,
                    validUntil: h.clock.now + 1000
                )
            ),
            with: producer
        )
        let skewed = try h.reading(other, 1, at: 10 * 60 * 1000)

        let raw: [String] = [
            Data(try h.reading(stranger, 1).bytes).base64EncodedString(),  // 0 unknown meter
            Data(try h.reading(revoked, 1).bytes).base64EncodedString(),  // 1 revoked
            Data(flipped).base64EncodedString(),  // 2 bad signature
            Data(mismatch.bytes).base64EncodedString(),  // 3 signer mismatch
            "not base64!!",  // 4 malformed base64
            Data([0xe0, 0x01, 0x02, 0x03]).base64EncodedString(),  // 5 malformed envelope
            Data(offer.bytes).base64EncodedString(),  // 6 wrong record type
            Data(try h.reading(meter, 5).bytes).base64EncodedString(),  // 7 sequence gap
            Data(skewed.bytes).base64EncodedString(),  // 8 timestamp skew
        ]
        let results = try await h.post(raw: raw)
        #expect(
            results.map(\.summary) == [
                "rejected:unknown-meter", "rejected:revoked-meter", "rejected:bad-signature",
                "rejected:signer-mismatch",
                "rejected:malformed", "rejected:malformed", "rejected:wrong-record-type", "rejected:sequence-gap",
                "rejected:timestamp-skew",
            ]
        )
        #expect(results.map(\.index) == Array(0..<9))
        #expect(results[7].detail?.contains("expected sequence 1") == true)
        #expect(results.allSatisfy { $0.detail?.isEmpty == false })
        #expect(await h.gateway.writer.health().pending == 1)  // the sequence-gap anomaly

        // A rejected in-sequence reading does not use up its number: sent with a good clock it is accepted.
        let retried = try await h.post([try h.reading(other, 1)])
        #expect(retried.map(\.summary) == ["accepted"])
    }

    @Test func identicalDuplicateIsAcknowledgedAndStoredOnce() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let first = try h.reading(meter, 1)
        #expect(try await h.post([first]).map(\.summary) == ["accepted"])
        // Again while pending, twice in one batch, and again after sealing.
        #expect(try await h.post([first, first]).map(\.summary) == ["duplicate", "duplicate"])
        await h.gateway.writer.sealNow()
        #expect(try await h.post([first]).map(\.summary) == ["duplicate"])
        await h.gateway.writer.sealNow()
        let readings = try h.gateway.writer.store.readings(meter: meter.id, from: .min, until: .max)
        #expect(readings.count == 1)
        #expect(try h.gateway.writer.store.entries(ofType: .reading).count == 1)
    }

    @Test func conflictingDuplicateIsRejectedAndRecordedAsEquivocation() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        #expect(try await h.post([try h.reading(meter, 1, importWh: 10)]).map(\.summary) == ["accepted"])
        let conflicting = try h.reading(meter, 1, importWh: 11)
        #expect(try await h.post([conflicting]).map(\.summary) == ["rejected:conflicting-duplicate"])
        // retried: no second anomaly
        #expect(try await h.post([conflicting]).map(\.summary) == ["rejected:conflicting-duplicate"])
        await h.gateway.writer.sealNow()
        let anomalies = try h.gateway.writer.store.anomalies()
        #expect(anomalies.count == 1)
        guard case let .anomaly(a)? = anomalies.first?.entry.record else {
            Issue.record("no anomaly on the chain")
            return
        }
        #expect(a.kind == .replay)
        #expect(a.subject == meter.id)
        #expect(a.evidenceHash == Hash256.sha256(conflicting.bytes))
        #expect(a.detail.hasPrefix("equivocation:"))
    }

    @Test func sequenceGapAnomalyOncePerGap() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        #expect(try await h.post([try h.reading(meter, 3)]).map(\.summary) == ["rejected:sequence-gap"])
        #expect(
            try await h.post([try h.reading(meter, 3), try h.reading(meter, 4)]).map(\.summary) == [
                "rejected:sequence-gap", "rejected:sequence-gap",
            ]
        )
        await h.gateway.writer.sealNow()
        let gaps = try h.gateway.writer.store.anomalies().compactMap { e -> Anomaly? in
            if case let .anomaly(a) = e.entry.record, a.kind == .sequenceGap { return a } else { return nil }
        }
        #expect(gaps.count == 1)
        #expect(gaps.first?.detail.contains("expected 1, got 3") == true)
        // After a restart the gap is remembered from the chain.
        h.close()
        let again = try await h.reopen()
        defer { again.close() }
        #expect(try await again.post([try again.reading(meter, 3)]).map(\.summary) == ["rejected:sequence-gap"])
        await again.gateway.writer.sealNow()
        #expect(try again.gateway.writer.store.anomalies().count == 1)
    }

    @Test func malformedJSONAndOversizeBatch() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/readings",
                method: .post,
                headers: .json,
                body: ByteBuffer(string: "{\"records\": [1, 2")
            ) { response in
                #expect(response.status == .badRequest)
                let error = try JSONDecoder().decode(ErrorView.self, from: Data(buffer: response.body))
                #expect(error.error.contains("IngestBatch"))
            }
            try await client.execute(
                uri: "/v1/readings",
                method: .post,
                headers: .json,
                body: ByteBuffer(string: "{\"readings\": []}")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("records"))
            }
            let big = try JSONEncoder().encode(
                IngestBatch(records: Array(repeating: "AA==", count: IngestBatch.maxRecords + 1))
            )
            try await client.execute(uri: "/v1/readings", method: .post, headers: .json, body: ByteBuffer(bytes: big)) {
                response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("at most \(IngestBatch.maxRecords)"))
            }
        }
    }

    @Test func acceptedReadingsSurviveACrashBeforeSealing() async throws {
        let h = try await Harness.make()
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let records = try (1...5).map { try h.reading(meter, UInt64($0)) }
        #expect(try await h.post(records).allSatisfy { $0.status == .accepted })
        #expect(try h.gateway.writer.store.reading(meter: meter.id, sequence: 1) == nil)  // not sealed yet
        // Crash: no seal, no graceful stop; only the threads go away.
        h.close()

        let again = try await h.reopen()
        defer { again.close() }
        #expect(await again.gateway.writer.health().pending == 5)
        // Acknowledged readings are known: resending is a duplicate, the next one is 6.
        #expect(
            try await again.post([records[4], try again.reading(meter, 6)]).map(\.summary) == ["duplicate", "accepted"]
        )
        await again.gateway.writer.sealNow()
        for seq in 1...6 {
            #expect(try again.gateway.writer.store.reading(meter: meter.id, sequence: UInt64(seq)) != nil)
        }
        #expect(try again.gateway.writer.journal.count() == 0)
        #expect(try VerifyCommand.check(again.dir).ok)
    }

    @Test func sealsBySizeDuringIngest() async throws {
        var config = ChainWriterConfig()
        config.sealSize = 4
        let h = try await Harness.make(config: config)
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)  // block 0
        _ = try await h.post(try (1...9).map { try h.reading(meter, UInt64($0)) })
        let health = await h.gateway.writer.health()
        #expect(health.blocks == 3)  // enrollment block + two full blocks of 4
        #expect(health.pending == 1)
        #expect(try h.gateway.writer.journal.count() == 1)
    }

    @Test func sealsByTime() async throws {
        var config = ChainWriterConfig()
        config.sealIntervalMs = 2000
        let h = try await Harness.make(config: config)
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post([try h.reading(meter, 1)])
        await h.gateway.writer.sealIfDue()
        #expect(await h.gateway.writer.health().pending == 1)
        h.clock.advance(ms: 2500)
        await h.gateway.writer.sealIfDue()
        #expect(await h.gateway.writer.health().pending == 0)
    }

    /// Sealed blocks go to the store on the archiver's thread. When an append fails, the
    /// acknowledged readings are still in the journal: the writer resumes from the store
    /// and the journal, keeps accepting, and seals them once the store works again.
    @Test func aFailedBlockAppendLosesNothing() async throws {
        let h = try await Harness.make(config: ChainWriterConfig(sealSize: 5))
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let store = try DatabaseQueue(path: h.dir.chainPath)
        try await store.write {
            try $0.execute(
                sql:
                    "CREATE TRIGGER broken_disk BEFORE INSERT ON block BEGIN SELECT RAISE(FAIL, 'disk error (test)'); END"
            )
        }
        // Seals a block of 5 that cannot be stored; every reading is still acknowledged.
        let first = try await h.post(try (1...7).map { try h.reading(meter, UInt64($0)) })
        #expect(first.allSatisfy { $0.status == .accepted })
        await h.gateway.writer.waitUntilStored()
        #expect(h.gateway.writer.archiver.failure != nil)
        // While the store stays broken, readings are still acknowledged (journaled).
        let second = try await h.post(try (8...9).map { try h.reading(meter, UInt64($0)) })
        #expect(second.allSatisfy { $0.status == .accepted }, "\(second.map(\.summary))")
        #expect(h.logs.all.contains { $0.contains("cannot append the sealed block") })

        // Once it works again, the writer resumes from the store and the journal.
        try await store.write { try $0.execute(sql: "DROP TRIGGER broken_disk") }
        h.clock.advance(ms: ChainWriter.resumeIntervalMs)
        await h.gateway.writer.sealNow()
        #expect(h.gateway.writer.archiver.failure == nil)
        let verified = try ChainVerifier(gatewayKey: h.gateway.writer.gatewayKey.publicIdentity).verify(
            h.gateway.writer.store
        )
        #expect(verified.state.nextReadingSequence(of: meter.id) == 10, "all nine readings are on the chain, once")
        #expect(try h.gateway.writer.journal.count() == 0)
    }

    @Test func concurrentBatchesFromManyMeters() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meters = (0..<8).map { _ in SigningIdentity() }
        for m in meters { try await h.enroll(m) }
        let app = h.app()
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for m in meters {
                    group.addTask {
                        for batch in 0..<3 {
                            let records = try (1...20).map { try h.reading(m, UInt64(batch * 20 + $0)) }
                            let body = try JSONEncoder().encode(IngestBatch(signed: records))
                            try await client.execute(
                                uri: "/v1/readings",
                                method: .post,
                                headers: .json,
                                body: ByteBuffer(bytes: body)
                            ) { response in
                                let results = try JSONDecoder().decode(
                                    IngestResponse.self,
                                    from: Data(buffer: response.body)
                                ).results
                                #expect(results.allSatisfy { $0.status == .accepted })
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        await h.gateway.writer.sealNow()
        for m in meters {
            #expect(try h.gateway.writer.store.readings(meter: m.id, from: .min, until: .max).count == 60)
        }
        #expect(try VerifyCommand.check(h.dir).ok)
    }
}

@Suite("Ingest response body")
struct IngestResponseWriterTests {
    /// The hand-written body decodes to the same value, with the same bytes, as the
    /// Codable encoding with sorted keys, including escaped details.
    @Test func sameJSONAsTheEncoder() throws {
        let results = [
            IngestResult(index: 0, status: .accepted, meter: "00ff", sequence: 7),
            IngestResult(
                index: 1,
                status: .duplicate,
                meter: "00ff",
                sequence: 3,
                detail: "reading 3 was already accepted"
            ),
            IngestResult(
                index: 2,
                status: .rejected,
                reason: .malformed,
                detail: "record 2 is not \"base64\"\\ \n\t\u{01} é ✓"
            ),
            IngestResult(index: 3, status: .retry, meter: "aa", sequence: UInt64.max, reason: .storage, detail: ""),
        ]
        let written = Data(buffer: IngestResponseWriter.body(results))
        #expect(try JSONDecoder().decode(IngestResponse.self, from: written) == IngestResponse(results: results))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(
            String(decoding: written, as: UTF8.self)
                == String(decoding: try encoder.encode(IngestResponse(results: results)), as: UTF8.self)
        )
        #expect(Data(buffer: IngestResponseWriter.body([])) == Data("{\"results\":[]}".utf8))
    }
}

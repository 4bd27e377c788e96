import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

@Suite("GET endpoints, admin, receipts")
struct APITests {
    @Test func healthz() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let health = try await h.get("/healthz", as: ChainWriter.Health.self)
        #expect(health.status == "ok")
        #expect(health.height == nil)
        #expect(health.pending == 0)
        try await h.enroll(SigningIdentity())
        let after = try await h.get("/healthz", as: ChainWriter.Health.self)
        #expect(after.height == 0)
        #expect(after.blocks == 1)
    }

    @Test func adminEndpointsNeedTheToken() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        let body = try JSONEncoder().encode(
            AdminKeyRequest(
                publicKey: KeyFile.publicKeyLine(meter.publicIdentity, comment: "m1"),
                meter: nil,
                role: "producer"
            )
        )
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/admin/enroll",
                method: .post,
                headers: .json,
                body: ByteBuffer(bytes: body)
            ) {
                response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("missing Authorization header"))
            }
            try await client.execute(
                uri: "/v1/admin/enroll",
                method: .post,
                headers: [.authorization: "Bearer 00ff", .contentType: "application/json"],
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(String(buffer: response.body).contains("wrong admin token"))
            }
            let auth: HTTPFields = [.authorization: "Bearer \(h.gateway.token)"]
            try await client.execute(
                uri: "/v1/admin/enroll",
                method: .post,
                headers: auth.json,
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .ok)
                let r = try JSONDecoder().decode(AdminResponse.self, from: Data(buffer: response.body))
                #expect(r.meter == meter.id.hex)
                #expect(r.role == "producer")
            }
            try await client.execute(
                uri: "/v1/admin/enroll",
                method: .post,
                headers: auth.json,
                body: ByteBuffer(bytes: body)
            ) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(
                uri: "/v1/admin/enroll",
                method: .post,
                headers: auth.json,
                body: ByteBuffer(string: "{\"publicKey\": \"ed25519 nope\"}")
            ) { response in
                #expect(response.status == .badRequest)
            }
            let revoke = try JSONEncoder().encode(AdminKeyRequest(publicKey: nil, meter: meter.id.hex, role: nil))
            try await client.execute(
                uri: "/v1/admin/revoke",
                method: .post,
                headers: .json,
                body: ByteBuffer(bytes: revoke)
            ) {
                response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(
                uri: "/v1/admin/revoke",
                method: .post,
                headers: auth.json,
                body: ByteBuffer(bytes: revoke)
            ) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(
                uri: "/v1/admin/revoke",
                method: .post,
                headers: auth.json,
                body: ByteBuffer(bytes: revoke)
            ) { response in
                #expect(response.status == .conflict)
            }
        }
        let meters = try await h.get("/v1/meters", as: [String: [MeterView]].self)["meters"] ?? []
        #expect(meters.count == 1)
        #expect(meters.first?.active == false)
        #expect(meters.first?.role == "producer")
    }

    @Test func blocksMetersReadingsAndAnomaliesViews() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post(try (1...3).map { try h.reading(meter, UInt64($0), at: Int64($0) * 1000) })
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(meter, 4, at: 4000, status: .tamper)])  // pending, with an anomaly

        let list = try await h.get("/v1/blocks", as: BlockListView.self)
        #expect(list.blocks.map(\.height) == [0, 1])
        #expect(list.tip == 1)
        #expect(list.next == nil)
        let page = try await h.get("/v1/blocks?from=0&limit=1", as: BlockListView.self)
        #expect(page.blocks.map(\.height) == [0])
        #expect(page.next == 1)

        let block = try await h.get("/v1/blocks/1", as: BlockView.self)
        #expect(block.header.entryCount == 3)
        #expect(block.entries.map { $0.record.reading?.sequence } == [1, 2, 3])
        let bytes = try #require(Data(base64Encoded: block.entries[0].bytes))
        #expect(try SignedRecord(bytes: Array(bytes)).record.type == .reading)
        #expect(block.entries[0].record.reading?.values["energy_import_wh"] == 1)
        _ = try await h.get("/v1/blocks/9", as: ErrorView.self, status: .notFound)
        _ = try await h.get("/v1/blocks/x", as: ErrorView.self, status: .badRequest)

        let meters = try await h.get("/v1/meters", as: [String: [MeterView]].self)["meters"] ?? []
        #expect(meters.map(\.id) == [meter.id.hex])
        #expect(meters.first?.lastSequence == 4)
        #expect(meters.first?.active == true)
        #expect(meters.first?.lastReadingTimestamp == h.clock.now + 4000)

        let readings = try await h.get("/v1/meters/\(meter.id.hex)/readings", as: MeterReadingsView.self)
        #expect(readings.readings.map(\.reading.sequence) == [1, 2, 3, 4])
        #expect(readings.readings.map(\.sealed) == [true, true, true, false])
        let window = try await h.get(
            "/v1/meters/\(meter.id.hex)/readings?from=\(h.clock.now + 2000)&until=\(h.clock.now + 3500)",
            as: MeterReadingsView.self
        )
        #expect(window.readings.map(\.reading.sequence) == [2, 3])
        _ = try await h.get("/v1/meters/\(SigningIdentity().id.hex)/readings", as: ErrorView.self, status: .notFound)
        _ = try await h.get("/v1/meters/zz/readings", as: ErrorView.self, status: .badRequest)

        let anomalies = try await h.get("/v1/anomalies", as: AnomalyListView.self)
        #expect(anomalies.anomalies.map(\.anomaly.category) == ["tamper-flag"])
        #expect(anomalies.anomalies.first?.sealed == false)
        #expect(anomalies.anomalies.first?.anomaly.subject == meter.id.hex)
    }

    /// The gateway keeps only the last unfinished chunk of its Merkle tree in memory;
    /// a receipt for an older reading reads that chunk's leaves back from the store.
    @Test func receiptsForReadingsInFinishedTreeChunks() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let total = Int(MerkleTree.chunkSize) * 2 + 50
        for start in stride(from: 1, through: total, by: 500) {
            let results = try await h.post(
                try (start...min(start + 499, total)).map { try h.reading(meter, UInt64($0)) }
            )
            #expect(results.allSatisfy { $0.status == .accepted })
        }
        await h.gateway.writer.sealNow()
        for seq in [1, 700, 1500, total] {
            let receipt = try await h.get("/v1/readings/\(meter.id.hex)/\(seq)/receipt", as: ReceiptView.self)
            let signed = try SignedBlockHeader(
                bytes: Array(try #require(Data(base64Encoded: receipt.block.signedHeader)))
            )
            let proof = try #require(receipt.proof.proof)
            #expect(
                proof.verify(
                    entry: Array(try #require(Data(base64Encoded: receipt.record))),
                    root: signed.header.merkleRoot
                ),
                "reading \(seq)"
            )
        }
    }

    /// A finished tree chunk whose last entries are not in the store yet (pending): the
    /// proof reads the rest of the chunk from the pending entries.
    @Test func receiptWhileItsTreeChunkIsFinishedByPendingEntries() async throws {
        let h = try await Harness.make(config: ChainWriterConfig(sealSize: 1000, sealIntervalMs: 3_600_000))
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)  // entry 0, sealed at once
        for start in stride(from: 1, through: 1100, by: 100) {
            _ = try await h.post(try (start..<start + 100).map { try h.reading(meter, UInt64($0)) })
        }
        // Entries 1…1000 sealed (block 1), 1001…1100 pending: chunk 0 (0…1023) is finished.
        await h.gateway.writer.waitUntilStored()
        #expect(await h.gateway.writer.health().pending == 100)
        let receipt = try await h.get("/v1/readings/\(meter.id.hex)/5/receipt", as: ReceiptView.self)
        let signed = try SignedBlockHeader(bytes: Array(try #require(Data(base64Encoded: receipt.block.signedHeader))))
        let proof = try #require(receipt.proof.proof)
        #expect(
            proof.verify(
                entry: Array(try #require(Data(base64Encoded: receipt.record))),
                root: signed.header.merkleRoot
            )
        )
    }

    @Test func receiptVerifiesOffline() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post(try (1...7).map { try h.reading(meter, UInt64($0)) })
        // Pending: 404 that says so.
        let pending = try await h.get("/v1/readings/\(meter.id.hex)/3/receipt", as: ErrorView.self, status: .notFound)
        #expect(pending.error.contains("not yet sealed"))
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(meter, 8)])
        await h.gateway.writer.sealNow()

        for seq in [1, 3, 7, 8] {
            let receipt = try await h.get("/v1/readings/\(meter.id.hex)/\(seq)/receipt", as: ReceiptView.self)
            // What an owner does offline: the header's signature with the gateway key...
            let headerBytes = try #require(Data(base64Encoded: receipt.block.signedHeader))
            let signed = try SignedBlockHeader(bytes: Array(headerBytes))
            let gatewayKey = try KeyFile.parsePublicKeyLine(receipt.gatewayKey).identity
            #expect(gatewayKey == (try KeyFile.readPublicKey(from: h.dir.publicKeyPath)))
            #expect(signed.isSignatureValid(by: gatewayKey))
            // ...then the record's inclusion under the header's Merkle root.
            let record = try #require(Data(base64Encoded: receipt.record))
            let proof = try #require(receipt.proof.proof)
            #expect(proof.treeSize == signed.header.treeSize)
            #expect(proof.verify(entry: Array(record), root: signed.header.merkleRoot))
            // And the record is the meter's own signed reading.
            let entry = try SignedRecord(bytes: Array(record))
            #expect(entry.isSignatureValid(by: meter.publicIdentity))
            guard case let .reading(r) = entry.record else {
                Issue.record("not a reading")
                continue
            }
            #expect(r.sequence == UInt64(seq))
            // A tampered record fails the proof.
            var altered = Array(record)
            altered[40] ^= 1
            #expect(!proof.verify(entry: altered, root: signed.header.merkleRoot))
        }
        _ = try await h.get("/v1/readings/\(meter.id.hex)/99/receipt", as: ErrorView.self, status: .notFound)
        _ = try await h.get("/v1/readings/nothex/1/receipt", as: ErrorView.self, status: .badRequest)
    }

    @Test func metricsExposition() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post([try h.reading(meter, 1), try h.reading(meter, 3), try h.reading(SigningIdentity(), 1)])
        await h.gateway.writer.sealNow()
        let text = try await h.app().test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
        }
        #expect(text.contains("gateway_readings_accepted_total 1"))
        #expect(text.contains(#"gateway_readings_rejected_total{reason="sequence-gap"} 1"#))
        #expect(text.contains(#"gateway_readings_rejected_total{reason="unknown-meter"} 1"#))
        #expect(text.contains("gateway_blocks_sealed_total 2"))
        #expect(text.contains("gateway_ingest_duration_seconds_bucket"))
        #expect(text.contains("gateway_meters_seen 1"))
        #expect(text.contains(#"gateway_anomalies_total{kind="sequence-gap"} 1"#))
    }
}

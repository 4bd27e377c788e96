import Crypto
import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import LedgerStore
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite

/// OCMF commitments through `POST /v1/readings`: the OCMF string beside its commitment,
/// checked off the writer, recorded on the chain by hash and kept in the OCMF archive.
@Suite("POST /v1/readings with OCMF documents")
struct OCMFIngestTests {
    let quarter: Int64 = 900_000

    /// The document of the (10 − pagination)-th quarter hour before `h`'s clock (so that
    /// successive documents have successive periods) and its commitment, as an agent signs them.
    func document(
        _ h: Harness,
        _ meter: SigningIdentity,
        pagination: UInt64,
        key: P256.Signing.PrivateKey = TestKeys.ocmf,
        periodStart: Int64? = nil
    ) throws -> (SignedRecord, String) {
        let start = periodStart ?? (h.clock.now - Int64(10 - pagination) * quarter)
        let value = 1000 * Int64(pagination)
        let document = try OCMFDocument.sign(
            OCMFPayload(
                gatewayIdentification: "GridLedger meter-agent",
                pagination: pagination,
                meterSerial: meter.id.hex,
                readings: [
                    OCMFReading(time: start, transaction: "B", valueWh: value, register: OCMFReading.importRegister),
                    OCMFReading(
                        time: start + quarter - 1,
                        transaction: "E",
                        valueWh: value + 500,
                        register: OCMFReading.importRegister
                    ),
                ]
            ),
            with: key
        )
        let commitment = try OCMFCommitment(
            meter: meter.id,
            gateway: h.gateway.writer.gatewayKey.id,
            pagination: pagination,
            periodStart: start,
            periodEnd: start + quarter,
            ocmfPublicKey: Array(TestKeys.ocmf.publicKey.x963Representation),
            ocmfHash: document.hash
        )
        return (try SignedRecord.sign(.ocmfCommitment(commitment), with: meter), document.text)
    }

    func post(_ h: Harness, _ items: [(SignedRecord, String?)]) async throws -> [IngestResult] {
        let batch = IngestBatch(records: items.map { Data($0.0.bytes).base64EncodedString() }, ocmf: items.map(\.1))
        return try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/readings",
                method: .post,
                headers: .json,
                body: ByteBuffer(bytes: try JSONEncoder().encode(batch))
            ) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                return try JSONDecoder().decode(IngestResponse.self, from: Data(buffer: response.body)).results
            }
        }
    }

    @Test func aDocumentIsRecordedByHashAndKeptBesideTheChain() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let first = try document(h, meter, pagination: 1)
        let second = try document(h, meter, pagination: 2)
        let results = try await post(h, [first, second].map { ($0.0, $0.1) })
        #expect(results.map(\.summary) == ["accepted", "accepted"])
        #expect(results.map(\.sequence) == [1, 2])
        // The same document sent again (a lost acknowledgement) is a duplicate, not stored twice.
        #expect(try await post(h, [(second.0, second.1)]).map(\.summary) == ["duplicate"])

        let archive = h.gateway.writer.ocmfArchive
        let stored = try #require(try archive.document(meter: meter.id, pagination: 2))
        #expect(stored.text == second.1 && stored.envelope == second.0.bytes)
        await h.gateway.writer.sealNow()
        await h.gateway.writer.waitUntilStored()
        let entry = try #require(try h.gateway.writer.store.entry(at: stored.index))
        #expect(entry.entry.bytes == second.0.bytes)
        let block = try await h.get("/v1/blocks/\(entry.height)", as: BlockView.self)
        let view = try #require(block.entries.first { $0.index == stored.index }?.record.ocmfCommitment)
        #expect(view.meter == meter.id.hex && view.pagination == 2)
        #expect(view.publicKey == OCMFKeyFile.publicKeyHex(TestKeys.ocmf.publicKey))
        #expect(view.ocmfHash == (try OCMFDocument(parsing: second.1)).hash.hex)

        let export = try OCMFExport(
            chain: try ReadOnlyChain(h.dir),
            meter: meter.id,
            from: h.clock.now - 10 * quarter,
            until: h.clock.now
        )
        #expect(export.rows.map(\.commitment.pagination) == [1, 2])
        #expect(export.rows.allSatisfy { $0.height == entry.height })
    }

    @Test func forgedMismatchedAndReplayedDocumentsAreRefusedWithTheirReason() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let (t1, text1) = try document(h, meter, pagination: 1)
        #expect(try await post(h, [(t1, text1)]).map(\.summary) == ["accepted"])

        // T2's commitment names the meter's OCMF key, but its string is signed by another key.
        let (honest, honestText) = try document(h, meter, pagination: 2)
        let (_, forgedText) = try document(h, meter, pagination: 2, key: P256.Signing.PrivateKey())
        guard case .ocmfCommitment(let c) = honest.record else {
            Issue.record("not a commitment")
            return
        }
        let forgedCommitment = try SignedRecord.sign(
            .ocmfCommitment(
                try OCMFCommitment(
                    meter: c.meter,
                    gateway: c.gateway,
                    pagination: 2,
                    periodStart: c.periodStart,
                    periodEnd: c.periodEnd,
                    ocmfPublicKey: c.ocmfPublicKey,
                    ocmfHash: try OCMFDocument(parsing: forgedText).hash
                )
            ),
            with: meter
        )
        // Another T1 (a replay with other contents), a gap, a string that is not the committed
        // one, no string at all, a string beside a reading, and a bad Ed25519 signature.
        let (otherT1, otherT1Text) = try document(h, meter, pagination: 1, periodStart: h.clock.now - 2 * quarter)
        let (overlapping, overlappingText) = try document(
            h,
            meter,
            pagination: 2,
            periodStart: h.clock.now - 9 * quarter
        )
        let (t4, t4Text) = try document(h, meter, pagination: 4)
        var flipped = honest.bytes
        flipped[flipped.count - 3] ^= 0x01
        let reading = try h.reading(meter, 1)
        let items: [(String, String?)] = [
            (Data(forgedCommitment.bytes).base64EncodedString(), forgedText),  // 0 forged ECDSA signature
            (Data(honest.bytes).base64EncodedString(), forgedText),  // 1 string that is not the committed one
            (Data(otherT1.bytes).base64EncodedString(), otherT1Text),  // 2 replayed pagination
            (Data(t4.bytes).base64EncodedString(), t4Text),  // 3 gap
            (Data(honest.bytes).base64EncodedString(), nil),  // 4 no string
            (Data(reading.bytes).base64EncodedString(), honestText),  // 5 a string beside a reading
            (Data(flipped).base64EncodedString(), honestText),  // 6 commitment's Ed25519 signature broken
            (Data(overlapping.bytes).base64EncodedString(), overlappingText),  // 7 T1's period again
        ]
        let body = try JSONEncoder().encode(IngestBatch(records: items.map(\.0), ocmf: items.map(\.1)))
        let results = try await h.app().test(.router) { client in
            try await client.execute(uri: "/v1/readings", method: .post, headers: .json, body: ByteBuffer(bytes: body))
            {
                try JSONDecoder().decode(IngestResponse.self, from: Data(buffer: $0.body)).results
            }
        }
        #expect(
            results.map(\.summary) == [
                "rejected:invalid-ocmf", "rejected:invalid-ocmf", "rejected:conflicting-duplicate",
                "rejected:sequence-gap", "rejected:invalid-ocmf", "rejected:invalid-ocmf", "rejected:bad-signature",
                "rejected:invalid-ocmf",
            ]
        )
        #expect(results[0].detail?.contains("does not verify with the committed P-256 key") == true, "\(results[0])")
        #expect(results[1].detail?.contains("SHA-256") == true, "\(results[1])")
        #expect(results[2].detail?.contains("T1") == true)
        #expect(results[3].detail?.contains("expected OCMF pagination T2") == true)
        #expect(results[7].detail?.contains("one document per period") == true, "\(results[7])")
        #expect(await h.gateway.writer.builder.state.nextOCMFPagination(of: meter.id) == 2)
        // Nothing refused reached the archive.
        #expect(try h.gateway.writer.ocmfArchive.document(meter: meter.id, pagination: 2) == nil)
        #expect(try await post(h, [(honest, honestText)]).map(\.summary) == ["accepted"])
    }

    @Test func aPeriodThatHasNotEndedIsRefusedAsSkew() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let future = try document(h, meter, pagination: 1, periodStart: h.clock.now + quarter)
        #expect(try await post(h, [(future.0, future.1)]).map(\.summary) == ["rejected:timestamp-skew"])
    }

    @Test func anAcknowledgedDocumentSurvivesACrashBeforeTheSeal() async throws {
        let h = try await Harness.make()
        let meter = SigningIdentity()
        try await h.enroll(meter)
        await h.gateway.writer.sealNow()
        let (t1, text1) = try document(h, meter, pagination: 1)
        #expect(try await post(h, [(t1, text1)]).map(\.summary) == ["accepted"])
        // No seal, no clean close: the commitment is only in the journal, its string in the archive.
        let reopened = try await h.reopen()
        defer { reopened.close() }
        #expect(await reopened.gateway.writer.builder.state.nextOCMFPagination(of: meter.id) == 2)
        let export = try OCMFExport(
            chain: try ReadOnlyChain(reopened.dir),
            meter: meter.id,
            from: h.clock.now - 10 * quarter,
            until: h.clock.now
        )
        #expect(export.rows.map(\.document.text) == [text1])
    }

    @Test func anArchivedStringWhoseCommitmentIsNotOnTheChainIsNotExported() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let (t1, text1) = try document(h, meter, pagination: 1)
        #expect(try await post(h, [(t1, text1)]).map(\.summary) == ["accepted"])
        await h.gateway.writer.sealNow()
        await h.gateway.writer.waitUntilStored()
        // What a journal write that failed after the archive's leaves behind: a row naming an
        // entry index the chain does not hold, and one naming an entry that is another record.
        let (t2, text2) = try document(h, meter, pagination: 2)
        guard case .ocmfCommitment(let c2) = t2.record else {
            Issue.record("not a commitment")
            return
        }
        for index: UInt64 in [1_000, 0] {
            try h.gateway.writer.ocmfArchive.save([
                OCMFArchive.Document(
                    meter: meter.id,
                    pagination: 2 + index,
                    index: index,
                    periodStart: c2.periodStart,
                    periodEnd: c2.periodEnd,
                    envelope: t2.bytes,
                    text: text2
                )
            ])
        }
        let export = try OCMFExport(
            chain: try ReadOnlyChain(h.dir),
            meter: meter.id,
            from: h.clock.now - 10 * quarter,
            until: h.clock.now
        )
        #expect(export.rows.map(\.document.text) == [text1])
        #expect(export.orphans == 2)
    }

    @Test func aBatchWithMoreOCMFStringsThanRecordsIsABadRequest() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let body = try JSONEncoder().encode(IngestBatch(records: ["AA=="], ocmf: [nil, "OCMF|{}|{}"]))
        try await h.app().test(.router) { client in
            try await client.execute(uri: "/v1/readings", method: .post, headers: .json, body: ByteBuffer(bytes: body))
            {
                #expect($0.status == .badRequest)
                #expect(String(buffer: $0.body).contains("as long as records"))
            }
        }
    }
}

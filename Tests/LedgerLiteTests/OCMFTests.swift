import Crypto
import Foundation
import TestSupport
import Testing

@testable import LedgerLite

/// OCMF documents (`OCMFDocument`, `OCMFTime`) and their commitments on the chain
/// (`OCMFCommitment`, `ChainState`'s pagination rule).
@Suite("OCMF documents and commitments")
struct OCMFTests {
    let t = TestKeys.baseTime
    let meter = TestKeys.meter
    let gateway = TestKeys.gateway

    func payload(pagination: UInt64 = 1, meter: MeterID? = nil, begin: Int64? = nil, end: Int64? = nil) -> OCMFPayload {
        OCMFPayload(
            gatewayIdentification: "GridLedger meter-agent",
            pagination: pagination,
            meterSerial: (meter ?? self.meter.id).hex,
            readings: [
                OCMFReading(
                    time: begin ?? t,
                    transaction: "B",
                    valueWh: 1_234_567,
                    register: OCMFReading.importRegister
                ),
                OCMFReading(
                    time: end ?? t + 899_000,
                    transaction: "E",
                    valueWh: 1_235_067,
                    register: OCMFReading.importRegister
                ),
            ]
        )
    }

    func commitment(
        for document: OCMFDocument,
        pagination: UInt64 = 1,
        gateway: GatewayID? = nil,
        key: P256.Signing.PublicKey = TestKeys.ocmf.publicKey,
        periodStart: Int64? = nil
    ) throws -> OCMFCommitment {
        try OCMFCommitment(
            meter: meter.id,
            gateway: gateway ?? self.gateway.id,
            pagination: pagination,
            periodStart: periodStart ?? t,
            periodEnd: (periodStart ?? t) + 900_000,
            ocmfPublicKey: Array(key.x963Representation),
            ocmfHash: document.hash
        )
    }

    // MARK: time notation

    @Test func timesAreWrittenInOCMFNotationInUTC() {
        #expect(OCMFTime.format(t, status: "I") == "2026-01-01T00:00:00,000+0000 I")
        #expect(OCMFTime.format(t + 41_415_007, status: "S") == "2026-01-01T11:30:15,007+0000 S")
        #expect(OCMFTime.format(1_709_208_000_000, status: "I") == "2024-02-29T12:00:00,000+0000 I")
    }

    @Test func timesParseBackWithAnyZoneOffset() throws {
        for ms in [t, t + 41_415_007, 1_709_208_000_000, 951_782_400_000] {
            let parsed = try #require(OCMFTime.parse(OCMFTime.format(ms, status: "I")))
            #expect(parsed.ms == ms && parsed.status == "I")
        }
        #expect(OCMFTime.parse("2018-07-24T13:22:04,000+0200 S")?.ms == 1_532_431_324_000)
        #expect(OCMFTime.parse("2018-07-24T13:22:04,000-0130 S")?.ms == 1_532_443_924_000)
    }

    @Test(
        "a time that is not OCMF's notation, or not a date, is refused",
        arguments: [
            "2026-01-01T00:00:00.000+0000 I", "2026-01-01T00:00:00,000+0000", "2026-02-30T00:00:00,000+0000 I",
            "2026-01-01T24:00:00,000+0000 I", "2026-01-01T00:00:00,000+0000 X", "1999-12-31T23:59:59,999+0000 I",
            "２026-01-01T00:00:00,000+0000 I",
        ]
    )
    func malformedTimes(_ text: String) {
        #expect(OCMFTime.parse(text) == nil)
    }

    // MARK: documents

    @Test func aSignedDocumentParsesAndVerifiesOverItsExactPayload() throws {
        let document = try OCMFDocument.sign(payload(), with: TestKeys.ocmf)
        #expect(document.text.hasPrefix("OCMF|{\"FV\":\"1.0\",\"GI\":\"GridLedger meter-agent\",\"PG\":\"T1\""))
        #expect(document.text.contains("\"RV\":1234.567,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\""))
        #expect(document.text.contains("\"SA\":\"ECDSA-secp256r1-SHA256\""))
        let parsed = try OCMFDocument(parsing: document.text)
        #expect(parsed.payload == payload())
        #expect(parsed.isSignatureValid(by: TestKeys.ocmf.publicKey))
        #expect(!parsed.isSignatureValid(by: P256.Signing.PrivateKey().publicKey))
    }

    @Test func anAlteredPayloadNoLongerVerifies() throws {
        let document = try OCMFDocument.sign(payload(), with: TestKeys.ocmf)
        let altered = try OCMFDocument(parsing: document.text.replacingOccurrences(of: "1235.067", with: "1236.067"))
        #expect(altered.payload.readings[1].valueWh == 1_236_067)
        #expect(!altered.isSignatureValid(by: TestKeys.ocmf.publicKey))
    }

    @Test func strayWhitespaceInThePayloadBreaksTheSignatureAsOCMFSays() throws {
        let document = try OCMFDocument.sign(payload(), with: TestKeys.ocmf)
        let spaced = try OCMFDocument(parsing: document.text.replacingOccurrences(of: "{\"FV\"", with: "{ \"FV\""))
        #expect(!spaced.isSignatureValid(by: TestKeys.ocmf.publicKey))
    }

    @Test(
        "what is not an OCMF document GridLedger takes is refused",
        arguments: [
            "", "OCMF|{}", "XCMF|{\"PG\":\"T1\",\"MS\":\"m\",\"RD\":[]}|{\"SD\":\"00\"}",
            "OCMF|{\"PG\":\"T1\",\"MS\":\"m\",\"RD\":[]}|{\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"F1\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"T01\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"T99999999999999999999\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"T1\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1e300,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"T1\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SA\":\"ECDSA-brainpool256r1-SHA256\",\"SD\":\"3006020101020101\"}",
            "OCMF|{\"PG\":\"T1\",\"MS\":\"m\",\"RD\":[{\"TM\":\"2026-01-01T00:00:00,000+0000 I\",\"RV\":1,\"RI\":\"1-0:1.8.0\",\"RU\":\"kWh\",\"ST\":\"G\"}]}|{\"SD\":\"zz\"}",
        ]
    )
    func refused(_ text: String) {
        #expect(throws: OCMFError.self) { _ = try OCMFDocument(parsing: text) }
    }

    @Test func aStringOverTheSizeLimitIsRefusedBeforeParsing() {
        let text = "OCMF|{\"PG\":\"T1\",\"GI\":\"\(String(repeating: "x", count: OCMFDocument.maxTextBytes))\"}|{}"
        #expect(throws: OCMFError.tooLong(bytes: text.utf8.count, limit: OCMFDocument.maxTextBytes)) {
            _ = try OCMFDocument(parsing: text)
        }
    }

    // MARK: commitments

    @Test func aDocumentMatchesItsCommitmentAndNothingElse() throws {
        let document = try OCMFDocument.sign(payload(), with: TestKeys.ocmf)
        #expect(document.mismatch(with: try commitment(for: document)) == nil)
        let other = try OCMFDocument.sign(payload(pagination: 2), with: TestKeys.ocmf)
        #expect(document.mismatch(with: try commitment(for: other))?.contains("SHA-256") == true)
        #expect(document.mismatch(with: try commitment(for: document, pagination: 2))?.contains("pagination") == true)
        let otherKey = P256.Signing.PrivateKey().publicKey
        #expect(
            document.mismatch(with: try commitment(for: document, key: otherKey))?.contains("does not verify") == true
        )
        let late = try OCMFDocument.sign(payload(end: t + 900_000), with: TestKeys.ocmf)
        #expect(late.mismatch(with: try commitment(for: late))?.contains("outside the period") == true)
        let stranger = try OCMFDocument.sign(payload(meter: TestKeys.consumer.id), with: TestKeys.ocmf)
        #expect(stranger.mismatch(with: try commitment(for: stranger))?.contains("meter serial") == true)
    }

    @Test func aCommitmentRoundTripsAndRefusesWhatItCannotHold() throws {
        let document = try OCMFDocument.sign(payload(), with: TestKeys.ocmf)
        let c = try commitment(for: document)
        let bytes = c.canonicalBytes()
        #expect(bytes.count == OCMFCommitment.encodedBytes)
        #expect(try OCMFCommitment(canonicalBytes: bytes) == c)
        #expect(try Record(canonicalBytes: bytes) == .ocmfCommitment(c))
        var badKey = bytes
        badKey[58 + 64] ^= 0x01  // the point's last byte: no longer on the curve
        #expect(throws: RecordDecodingError.self) { _ = try OCMFCommitment(canonicalBytes: badKey) }
        #expect(throws: RecordDecodingError.self) { _ = try OCMFCommitment(canonicalBytes: bytes + [0]) }
        let key = Array(TestKeys.ocmf.publicKey.x963Representation)
        #expect(throws: RecordDecodingError.self) {
            _ = try OCMFCommitment(
                meter: meter.id,
                gateway: gateway.id,
                pagination: 0,
                periodStart: t,
                periodEnd: t + 1,
                ocmfPublicKey: key,
                ocmfHash: .zero
            )
        }
        #expect(throws: RecordDecodingError.self) {
            _ = try OCMFCommitment(
                meter: meter.id,
                gateway: gateway.id,
                pagination: 1,
                periodStart: t,
                periodEnd: t + OCMFCommitment.maxPeriodMilliseconds + 1,
                ocmfPublicKey: key,
                ocmfHash: .zero
            )
        }
        #expect(throws: RecordDecodingError.self) {
            _ = try OCMFCommitment(
                meter: meter.id,
                gateway: gateway.id,
                pagination: 1,
                periodStart: Int64.max - 1,
                periodEnd: Int64.max,
                ocmfPublicKey: Array(key.dropFirst()),
                ocmfHash: .zero
            )
        }
    }

    @Test func theChainTakesEachMetersPaginationWithoutGapsAndOnlyForItsGateway() throws {
        var state = ChainState(gatewayKey: gateway.publicIdentity)
        try state.apply(
            gateway.signed(.enrollment(Enrollment(meterKey: meter.publicIdentity, role: .consumer, timestamp: t)))
        )
        // Document n covers the n-th quarter hour from t, unless `start` says otherwise.
        func entry(
            _ pagination: UInt64,
            gateway: GatewayID? = nil,
            by signer: SigningIdentity? = nil,
            start: Int64? = nil
        ) throws -> SignedRecord {
            let start = start ?? t + Int64(pagination - 1) * 900_000
            let document = try OCMFDocument.sign(
                payload(pagination: pagination, begin: start, end: start + 899_000),
                with: TestKeys.ocmf
            )
            return (signer ?? meter).signed(
                .ocmfCommitment(
                    try commitment(for: document, pagination: pagination, gateway: gateway, periodStart: start)
                )
            )
        }
        try state.apply(try entry(1))
        #expect(state.nextOCMFPagination(of: meter.id) == 2)
        #expect(throws: RuleViolation.ocmfPaginationReplay(meter.id, expected: 2, found: 1)) {
            _ = try state.admit(try entry(1))
        }
        #expect(throws: RuleViolation.ocmfPaginationGap(meter.id, expected: 2, found: 3)) {
            _ = try state.admit(try entry(3))
        }
        let other = TestKeys.key(0x88).id
        #expect(throws: RuleViolation.ocmfForOtherGateway(meter.id, pagination: 2, named: other, gateway: gateway.id)) {
            _ = try state.admit(try entry(2, gateway: other))
        }
        #expect(
            throws: RuleViolation.signerMismatch(
                signer: TestKeys.consumer.id,
                expected: meter.id,
                type: .ocmfCommitment
            )
        ) {
            _ = try state.admit(try entry(2, by: TestKeys.consumer))
        }
        #expect(
            throws: RuleViolation.ocmfPeriodOverlap(
                meter.id,
                pagination: 2,
                start: t + 899_999,
                previousEnd: t + 900_000
            )
        ) {
            _ = try state.admit(try entry(2, start: t + 899_999))
        }
        var strangers = ChainState(gatewayKey: gateway.publicIdentity)
        #expect(throws: RuleViolation.unknownSigner(meter.id)) { try strangers.apply(try entry(1)) }
        try state.apply(try entry(2))
        #expect(state.nextOCMFPagination(of: meter.id) == 3)
    }

    @Test func aChainWithCommitmentsVerifiesAndAGapInItDoesNot() throws {
        var fixture = ChainFixture(maxEntries: 3, consumers: 1, producers: 1)
        try fixture.enrollAll()
        let consumer = fixture.consumers[0]
        func entry(_ pagination: UInt64) throws -> SignedRecord {
            let document = try OCMFDocument.sign(
                OCMFPayload(
                    gatewayIdentification: "test",
                    pagination: pagination,
                    meterSerial: consumer.id.hex,
                    readings: [OCMFReading(time: t, transaction: "E", valueWh: 1, register: OCMFReading.importRegister)]
                ),
                with: TestKeys.ocmf
            )
            return consumer.signed(
                .ocmfCommitment(
                    try OCMFCommitment(
                        meter: consumer.id,
                        gateway: gateway.id,
                        pagination: pagination,
                        periodStart: t + Int64(pagination) * 900_000,
                        periodEnd: t + Int64(pagination + 1) * 900_000,
                        ocmfPublicKey: Array(TestKeys.ocmf.publicKey.x963Representation),
                        ocmfHash: document.hash
                    )
                )
            )
        }
        for pagination: UInt64 in 1...4 { try fixture.add(try entry(pagination)) }
        try fixture.reading(consumer)
        let verified = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: fixture.blocks)
        #expect(verified.state.nextOCMFPagination(of: consumer.id) == 5)

        var forged = ChainFixture(maxEntries: 3, consumers: 1, producers: 1)
        forged.builder.forging = true
        try forged.enrollAll()
        try forged.add(try entry(1))
        try forged.add(try entry(3))
        try forged.reading(consumer)
        try forged.reading(consumer)
        #expect(throws: VerificationFailure.self) {
            _ = try ChainVerifier(gatewayKey: gateway.publicIdentity).verify(blocks: forged.blocks)
        }
    }
}

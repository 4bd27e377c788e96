import Crypto
import Foundation
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

/// Checks every `hex NAME` vector in docs/FORMATS.md against the code.
@Suite struct FormatVectorTests {
    static let vectors: [String: [UInt8]] = {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let doc = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/FORMATS.md")
        guard let text = try? String(contentsOf: doc, encoding: .utf8) else { return [:] }
        var result: [String: [UInt8]] = [:]
        let lines = text.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            let line = lines[i].trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("```hex ") {
                let name = String(line.dropFirst("```hex ".count))
                var hex = ""
                i += 1
                while i < lines.count, !lines[i].hasPrefix("```") {
                    hex += lines[i].trimmingCharacters(in: .whitespaces)
                    i += 1
                }
                result[name] = decodeHex(hex)
            }
            i += 1
        }
        return result
    }()

    func vector(_ name: String) throws -> [UInt8] {
        try #require(Self.vectors[name], "vector \(name) missing from docs/FORMATS.md")
    }

    let t = TestKeys.baseTime

    @Test func allVectorsArePresent() {
        #expect(Self.vectors.count == 39)
    }

    @Test func keyIDsAndKeyLines() throws {
        #expect(TestKeys.meter.id.hex == "10ba682c8ad13513971e8b56881aab8b")
        #expect(TestKeys.producer.id.hex == "1325b850c2871916eae203f0efc3c898")
        #expect(TestKeys.consumer.id.hex == "6c8f8607dbe87077a62a2990ce07d94a")
        #expect(TestKeys.gateway.id.hex == "8a47cf56c4b420a737fea607f98b0dce")
        #expect(
            encodeHex(TestKeys.meter.publicIdentity.rawBytes)
                == "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737"
        )
        #expect(
            KeyFile.publicKeyLine(TestKeys.meter.publicIdentity, comment: "meter-1")
                == "ed25519 0EqyMnQrtKs6E2i9RhXk5tAiSrcaAWuvhSCjMsl3hzc= meter-1"
        )
    }

    /// RFC 8032 §7.1 TEST 1: swift-crypto's Ed25519 is the deterministic RFC algorithm.
    @Test func rfc8032TestVector1() throws {
        let key = try SigningIdentity(
            seed: decodeHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60") ?? []
        )
        #expect(
            encodeHex(key.publicIdentity.rawBytes) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        )
        let signature = try key.sign([])
        #expect(
            encodeHex(signature)
                == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
    }

    @Test func reading() throws {
        let reading = try Reading(
            meter: TestKeys.meter.id,
            sequence: 42,
            timestamp: t,
            values: [
                MeasuredValue(.frequencyMilliHz, 50012), MeasuredValue(.energyImportWh, 1_234_567),
                MeasuredValue(.voltageL1dV, 2301), MeasuredValue(.activePowerW, -1500),
            ],
            status: [.tamper]
        )
        #expect(reading.canonicalBytes() == (try vector("reading-v1")))
        #expect(try Reading(canonicalBytes: vector("reading-v1")) == reading)
    }

    /// The version 1 vector's values, addressed to the gateway key (version 2).
    @Test func readingAddressedToItsGateway() throws {
        let reading = try Reading(
            meter: TestKeys.meter.id,
            gateway: TestKeys.gateway.id,
            sequence: 42,
            timestamp: t,
            values: [
                MeasuredValue(.frequencyMilliHz, 50012), MeasuredValue(.energyImportWh, 1_234_567),
                MeasuredValue(.voltageL1dV, 2301), MeasuredValue(.activePowerW, -1500),
            ],
            status: [.tamper]
        )
        #expect(reading.version == 2)
        #expect(reading.canonicalBytes() == (try vector("reading-v2")))
        #expect(try Reading(canonicalBytes: vector("reading-v2")) == reading)
        let entry = try SignedRecord(bytes: vector("signed-reading-v2"))
        #expect(entry.record == .reading(reading))
        #expect(entry.isSignatureValid(by: TestKeys.meter.publicIdentity))
        #expect(TestKeys.meter.signed(.reading(reading)).bytes == (try vector("signed-reading-v2")))
    }

    /// The version 2 vector's values with the import counter's resolution, 100 Wh (version 3).
    @Test func readingWithItsCounterResolution() throws {
        let reading = try Reading(
            meter: TestKeys.meter.id,
            gateway: TestKeys.gateway.id,
            sequence: 42,
            timestamp: t,
            values: [
                MeasuredValue(.frequencyMilliHz, 50012), MeasuredValue(.energyImportWh, 1_234_567),
                MeasuredValue(.voltageL1dV, 2301), MeasuredValue(.activePowerW, -1500),
                MeasuredValue(.energyImportResolutionWh, 100),
            ],
            status: [.tamper]
        )
        #expect(reading.version == 3)
        #expect(reading.canonicalBytes() == (try vector("reading-v3")))
        #expect(try Reading(canonicalBytes: vector("reading-v3")) == reading)
        #expect(TestKeys.meter.signed(.reading(reading)).bytes == (try vector("signed-reading-v3")))
    }

    /// Resolutions only in version 3, only addressed, only 1…1000 Wh; a version 3 reading
    /// states one; versions 1 and 2 reject the codes.
    @Test func counterResolutionsAreVersion3Only() throws {
        func reading(gateway: GatewayID?, resolution: Int64) throws -> Reading {
            try Reading(
                meter: TestKeys.meter.id,
                gateway: gateway,
                sequence: 1,
                timestamp: t,
                values: [MeasuredValue(.energyImportWh, 10), MeasuredValue(.energyImportResolutionWh, resolution)]
            )
        }
        #expect(throws: RecordDecodingError.self) { try reading(gateway: nil, resolution: 10) }
        #expect(throws: RecordDecodingError.self) { try reading(gateway: TestKeys.gateway.id, resolution: 0) }
        #expect(throws: RecordDecodingError.self) { try reading(gateway: TestKeys.gateway.id, resolution: 1001) }
        #expect(throws: RecordDecodingError.self) { try reading(gateway: TestKeys.gateway.id, resolution: .max) }
        #expect(try reading(gateway: TestKeys.gateway.id, resolution: 1000).version == 3)

        var v3 = try vector("reading-v3")
        // The same bytes as version 2: the resolution code is unknown there.
        v3[1] = 2
        #expect(throws: RecordDecodingError.unknownMeasurand(code: 0x0101)) { try Reading(canonicalBytes: v3) }
        // A version 3 reading without a resolution would re-encode as version 2.
        var plain = try vector("reading-v2")
        plain[1] = 3
        #expect(throws: RecordDecodingError.self) { try Reading(canonicalBytes: plain) }
    }

    @Test func signedReading() throws {
        let bytes = try vector("signed-reading-v1")
        let entry = try SignedRecord(bytes: bytes)
        #expect(entry.signer == TestKeys.meter.id)
        #expect(Array(entry.body) == (try vector("reading-v1")))
        #expect(entry.isSignatureValid(by: TestKeys.meter.publicIdentity))
        #expect(!entry.isSignatureValid(by: TestKeys.producer.publicIdentity))
        #expect(TestKeys.meter.signed(entry.record).bytes == bytes)
    }

    @Test func offerRequestDispatch() throws {
        let offer = try Offer(
            producer: TestKeys.producer.id,
            sequence: 7,
            energyWh: 5000,
            validFrom: t,
            validUntil: t + 3_600_000
        )
        #expect(offer.canonicalBytes() == (try vector("offer-v1")))
        #expect(try Offer(canonicalBytes: vector("offer-v1")) == offer)

        let request = try EnergyRequest(
            consumer: TestKeys.consumer.id,
            sequence: 3,
            energyWh: 1200,
            timestamp: t + 60_000
        )
        #expect(request.canonicalBytes() == (try vector("request-v1")))
        #expect(try EnergyRequest(canonicalBytes: vector("request-v1")) == request)

        let served = try Dispatch(
            request: request.reference,
            outcome: .served(producer: TestKeys.producer.id, energyWh: 1200, producerTNTBefore: 4)
        )
        #expect(served.canonicalBytes() == (try vector("dispatch-served-v1")))
        #expect(try Dispatch(canonicalBytes: vector("dispatch-served-v1")) == served)

        let unserved = try Dispatch(request: request.reference, outcome: .unserved)
        #expect(unserved.canonicalBytes() == (try vector("dispatch-unserved-v1")))
        #expect(try Dispatch(canonicalBytes: vector("dispatch-unserved-v1")) == unserved)

        let split = try Dispatch(
            request: request.reference,
            policy: .splitTNT,
            outcome: .split([
                DispatchShare(producer: TestKeys.producer.id, energyWh: 800, tntBefore: 4),
                DispatchShare(producer: TestKeys.meter.id, energyWh: 400, tntBefore: 5),
            ])
        )
        #expect(split.canonicalBytes() == (try vector("dispatch-split-v2")))
        #expect(try Dispatch(canonicalBytes: vector("dispatch-split-v2")) == split)

        // Under the split policy a single-producer answer keeps the version 1 layout.
        let servedUnderSplit = try Dispatch(
            request: request.reference,
            policy: .splitTNT,
            outcome: .served(producer: TestKeys.producer.id, energyWh: 1200, producerTNTBefore: 4)
        )
        #expect(servedUnderSplit.canonicalBytes() == (try vector("dispatch-served-split-policy-v1")))
        #expect(try Dispatch(canonicalBytes: vector("dispatch-served-split-policy-v1")) == servedUnderSplit)
    }

    @Test func policy() throws {
        let policy = PolicyRecord(policy: .splitTNT, offerToleranceWh: 250, timestamp: t)
        #expect(policy.canonicalBytes() == (try vector("policy-v1")))
        #expect(try PolicyRecord(canonicalBytes: vector("policy-v1")) == policy)
        let signed = try SignedRecord(bytes: vector("signed-policy-v1"))
        #expect(signed.record == .policy(policy))
        #expect(signed.isSignatureValid(by: TestKeys.gateway.publicIdentity))
        #expect(TestKeys.gateway.signed(.policy(policy)).bytes == (try vector("signed-policy-v1")))
        #expect(RecordType.policy.isGatewayAuthored)
    }

    /// The OCMF string of the `text ocmf-document-v1` block.
    static let ocmfDocument: String? = {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let doc = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/FORMATS.md")
        guard let text = try? String(contentsOf: doc, encoding: .utf8) else { return nil }
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "```text ocmf-document-v1"), start + 1 < lines.count else { return nil }
        return lines[start + 1]
    }()

    @Test func ocmfCommitment() throws {
        let text = try #require(Self.ocmfDocument, "the ocmf-document-v1 block is missing from docs/FORMATS.md")
        let document = try OCMFDocument(parsing: text)
        #expect(document.isSignatureValid(by: TestKeys.ocmf.publicKey))
        let payload = OCMFPayload(
            gatewayIdentification: "GridLedger meter-agent",
            pagination: 1,
            meterSerial: TestKeys.meter.id.hex,
            readings: [
                OCMFReading(time: t, transaction: "B", valueWh: 1_234_567, register: OCMFReading.importRegister),
                OCMFReading(
                    time: t + 899_000,
                    transaction: "E",
                    valueWh: 1_235_067,
                    register: OCMFReading.importRegister
                ),
            ]
        )
        #expect(document.payloadText == payload.json()[...])
        let commitment = try OCMFCommitment(
            meter: TestKeys.meter.id,
            gateway: TestKeys.gateway.id,
            pagination: 1,
            periodStart: t,
            periodEnd: t + 900_000,
            ocmfPublicKey: Array(TestKeys.ocmf.publicKey.x963Representation),
            ocmfHash: document.hash
        )
        #expect(commitment.canonicalBytes() == (try vector("ocmf-commitment-v1")))
        #expect(try OCMFCommitment(canonicalBytes: vector("ocmf-commitment-v1")) == commitment)
        #expect(document.mismatch(with: commitment) == nil)
        #expect(TestKeys.meter.signed(.ocmfCommitment(commitment)).bytes == (try vector("signed-ocmf-commitment-v1")))
        let signed = try SignedRecord(bytes: vector("signed-ocmf-commitment-v1"))
        #expect(signed.record.meterAuthor == TestKeys.meter.id)
        #expect(!RecordType.ocmfCommitment.isGatewayAuthored)
        #expect(
            encodeHex(Array(TestKeys.ocmf.publicKey.derRepresentation))
                == "3059301306072a8648ce3d020106082a8648ce3d0301070342000457e977f6db7e33c3fe7acf2842ed987009caf5"
                + "6d458682fca447b7d3d762ab34c5ab3770ba573bdff5414065640ffb5b346dfa84dec4db4d68e5f59cc471c2ec"
        )
    }

    @Test func offerCutAnomaly() throws {
        let anomaly = try Anomaly(
            kind: .offerExceedsProduction,
            subject: TestKeys.producer.id,
            evidenceHash: .zero,
            timestamp: t,
            detail: ""
        )
        #expect(anomaly.canonicalBytes()[2...3] == [0x00, 0x08])
    }

    @Test func membershipAndAnomaly() throws {
        let enrollment = Enrollment(meterKey: TestKeys.producer.publicIdentity, role: .producer, timestamp: t)
        #expect(enrollment.canonicalBytes() == (try vector("enrollment-v1")))
        #expect(try Enrollment(canonicalBytes: vector("enrollment-v1")) == enrollment)

        let revocation = Revocation(
            meterKey: TestKeys.producer.publicIdentity,
            role: .producer,
            timestamp: t + 86_400_000
        )
        #expect(revocation.canonicalBytes() == (try vector("revocation-v1")))
        #expect(try Revocation(canonicalBytes: vector("revocation-v1")) == revocation)

        let evidence = Hash256.sha256(try vector("signed-reading-v1"))
        #expect(evidence.hex == "8905f94e0c416b5d8a6c2fc7f9fa5119fc74c3f1d97a7ddc5f33754abe816732")
        let anomaly = try Anomaly(
            kind: .sequenceGap,
            subject: TestKeys.meter.id,
            evidenceHash: evidence,
            timestamp: t + 1000,
            detail: "expected 41"
        )
        #expect(anomaly.canonicalBytes() == (try vector("anomaly-v1")))
        #expect(try Anomaly(canonicalBytes: vector("anomaly-v1")) == anomaly)
    }

    /// The first block as LedgerLite sealed it before header version 2 (version 1, state
    /// digest of TNT state version 2): such chains still verify.
    @Test func firstBlock() throws {
        var builder = BlockBuilder(
            gateway: TestKeys.gateway,
            policy: SealPolicy(maxEntries: 10, maxAgeMilliseconds: 60_000)
        )
        builder.sealsLegacyHeaders = true
        let enroll = try builder.addGatewayRecord(
            .enrollment(Enrollment(meterKey: TestKeys.meter.publicIdentity, role: .consumer, timestamp: t)),
            at: t
        )
        #expect(enroll.entry.bytes == (try vector("chain-entry-0")))
        let reading = try Reading(
            meter: TestKeys.meter.id,
            sequence: 1,
            timestamp: t + 500,
            values: [MeasuredValue(.energyImportWh, 10)]
        )
        let entry = TestKeys.meter.signed(.reading(reading))
        #expect(entry.bytes == (try vector("chain-entry-1")))
        #expect(try builder.add(entry, at: t + 1000) == nil)
        let block = try #require(try builder.seal(at: t + 1000))
        #expect(block.header.bytes == (try vector("block-0-signed-header")))
        #expect(
            block.header.header.merkleRoot.hex == "c86c8bbc1d6eeaa145069c8f5efc27f5987c3e3766016709406631c9682b5588"
        )
        #expect(
            block.header.header.stateDigest.hex == "202b7869bb0933ceb8e6609e8d5b900fe763ddb22fbe770f107d4c5f6d348fd2"
        )
        #expect(block.hash.hex == "0f8fc0422a7c4596a1118afeaf1ddf91bba480d859bf0bc67047dd89538e58d8")
        let decoded = try SignedBlockHeader(bytes: vector("block-0-signed-header"))
        #expect(decoded.header == block.header.header)
        #expect(decoded.header.version == 1)
        #expect(decoded.isSignatureValid(by: TestKeys.gateway.publicIdentity))
        // The bytes written before header version 2 verify as they are.
        let stored = Block(
            header: decoded,
            entries: [
                try SignedRecord(bytes: vector("chain-entry-0")), try SignedRecord(bytes: vector("chain-entry-1")),
            ]
        )
        let verified = try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: [stored])
        #expect(verified.tip == ChainTip(decoded))
    }

    /// The same first block sealed today: header version 2, state digest of TNT state version 3.
    @Test func firstBlockVersion2() throws {
        var builder = BlockBuilder(
            gateway: TestKeys.gateway,
            policy: SealPolicy(maxEntries: 10, maxAgeMilliseconds: 60_000)
        )
        _ = try builder.addGatewayRecord(
            .enrollment(Enrollment(meterKey: TestKeys.meter.publicIdentity, role: .consumer, timestamp: t)),
            at: t
        )
        #expect(try builder.add(try SignedRecord(bytes: vector("chain-entry-1")), at: t + 1000) == nil)
        let block = try #require(try builder.seal(at: t + 1000))
        #expect(block.header.bytes == (try vector("block-0-v2-signed-header")))
        #expect(block.header.header.version == 2)
        #expect(
            block.header.header.stateDigest.hex == "24b9abaf1599f245f07ebdb10fcebd42550a1fa25345603f9da73ebdc32ae732"
        )
        #expect(block.hash.hex == "71e3a8e2f5d1d7ec4c02bc8677e6048431d7a5d845c42a9acf6920e6f92e0aac")
        let decoded = try SignedBlockHeader(bytes: vector("block-0-v2-signed-header"))
        #expect(decoded.header == block.header.header)
        #expect(decoded.isSignatureValid(by: TestKeys.gateway.publicIdentity))
        let verified = try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(blocks: [block])
        #expect(verified.tip == builder.tip)
    }

    /// The first block as it travels to the super node.
    @Test func blockOnTheWire() throws {
        let entries = [
            try SignedRecord(bytes: vector("chain-entry-0")), try SignedRecord(bytes: vector("chain-entry-1")),
        ]
        let block = Block(header: try SignedBlockHeader(bytes: vector("block-0-signed-header")), entries: entries)
        #expect(block.wireBytes() == (try vector("block-wire-v1")))
        #expect(try Block(wireBytes: vector("block-wire-v1")) == block)
        var wrong = try vector("block-wire-v1")
        wrong[219] = 1  // entry count 1, header says 2
        #expect(throws: RecordDecodingError.self) { try Block(wireBytes: wrong) }
        #expect(throws: RecordDecodingError.self) { try Block(wireBytes: vector("block-wire-v1") + [0]) }
        #expect(throws: RecordDecodingError.self) { try Block(wireBytes: Array(vector("block-wire-v1").dropLast())) }
    }

    static let root = TestKeys.key(0xaa)

    @Test func gatewayCertificate() throws {
        #expect(Self.root.id.hex == "448f04ffcba874db93d9fd02520daa58")
        #expect(
            encodeHex(Self.root.publicIdentity.rawBytes)
                == "e734ea6c2b6257de72355e472aa05a4c487e6b463c029ed306df2f01b5636b58"
        )
        let certificate = try GatewayCertificate(
            issuer: Self.root.id,
            gatewayKey: TestKeys.gateway.publicIdentity,
            serial: 1,
            issuedAt: t,
            name: "Feeder 7 — Nordhavn"
        )
        #expect(certificate.canonicalBytes() == (try vector("gateway-certificate-v1")))
        #expect(try GatewayCertificate(canonicalBytes: vector("gateway-certificate-v1")[...]) == certificate)
        let signed = try SignedGatewayCertificate.sign(certificate, with: Self.root)
        #expect(signed.bytes == (try vector("signed-gateway-certificate-v1")))
        let decoded = try SignedGatewayCertificate(bytes: vector("signed-gateway-certificate-v1"))
        #expect(decoded.certificate == certificate)
        #expect(decoded.isSignatureValid(by: Self.root.publicIdentity))
        #expect(!decoded.isSignatureValid(by: TestKeys.gateway.publicIdentity))
        #expect(try SignedGatewayCertificate(fileText: signed.fileText) == signed)
        // Strict decoding: empty, oversize and control-character names, serial 0, trailing bytes.
        #expect(throws: RecordDecodingError.self) {
            try GatewayCertificate(
                issuer: Self.root.id,
                gatewayKey: TestKeys.gateway.publicIdentity,
                serial: 1,
                issuedAt: t,
                name: ""
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try GatewayCertificate(
                issuer: Self.root.id,
                gatewayKey: TestKeys.gateway.publicIdentity,
                serial: 1,
                issuedAt: t,
                name: String(repeating: "x", count: 129)
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try GatewayCertificate(
                issuer: Self.root.id,
                gatewayKey: TestKeys.gateway.publicIdentity,
                serial: 1,
                issuedAt: t,
                name: "a\nb"
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try GatewayCertificate(
                issuer: Self.root.id,
                gatewayKey: TestKeys.gateway.publicIdentity,
                serial: 0,
                issuedAt: t,
                name: "a"
            )
        }
        #expect(throws: RecordDecodingError.self) {
            try GatewayCertificate(canonicalBytes: (vector("gateway-certificate-v1") + [0])[...])
        }
        var badUTF8 = try vector("gateway-certificate-v1")
        badUTF8[badUTF8.count - 1] = 0xff
        #expect(throws: RecordDecodingError.invalidUTF8(field: "name")) {
            try GatewayCertificate(canonicalBytes: badUTF8[...])
        }
        // One flipped byte and the signature no longer verifies.
        var tampered = try vector("signed-gateway-certificate-v1")
        tampered[60] ^= 1
        #expect(try SignedGatewayCertificate(bytes: tampered).isSignatureValid(by: Self.root.publicIdentity) == false)
    }

    @Test func requestStamp() throws {
        let body = Array(#"{"blocks":[]}"#.utf8)
        let stamp = try RequestStamp(
            signer: TestKeys.gateway.id,
            timestamp: t + 3000,
            nonce: Array(0..<16),
            method: "POST",
            path: "/v1/blocks",
            body: body
        )
        #expect(stamp.canonicalBytes() == (try vector("request-stamp-v1")))
        #expect(try RequestStamp(canonicalBytes: vector("request-stamp-v1")[...]) == stamp)
        let signed = try SignedRequestStamp.sign(stamp, with: TestKeys.gateway)
        #expect(signed.bytes == (try vector("signed-request-stamp-v1")))
        let decoded = try SignedRequestStamp(bytes: vector("signed-request-stamp-v1"))
        #expect(decoded.stamp == stamp)
        #expect(decoded.isSignatureValid(by: TestKeys.gateway.publicIdentity))
        #expect(decoded.isSignatureValid(by: Self.root.publicIdentity) == false)
        #expect(throws: RecordDecodingError.self) {
            try SignedRequestStamp(bytes: vector("signed-request-stamp-v1") + [0])
        }
        #expect(throws: RecordDecodingError.self) {
            try SignedRequestStamp(bytes: vector("signed-request-stamp-v1").dropLast())
        }
        #expect(throws: RecordDecodingError.self) {
            try RequestStamp(
                signer: TestKeys.gateway.id,
                timestamp: t,
                nonce: [1, 2],
                method: "POST",
                path: "/",
                body: []
            )
        }
        // One flipped byte (the body's hash) and the signature no longer verifies.
        var tampered = try vector("signed-request-stamp-v1")
        tampered[80] ^= 1
        #expect(try SignedRequestStamp(bytes: tampered).isSignatureValid(by: TestKeys.gateway.publicIdentity) == false)
    }

    @Test func checkpoint() throws {
        let checkpoint = Checkpoint(
            issuer: Self.root.id,
            gateway: TestKeys.gateway.id,
            certificateSerial: 1,
            height: 0,
            blockHash: try #require(Hash256(hex: "0f8fc0422a7c4596a1118afeaf1ddf91bba480d859bf0bc67047dd89538e58d8")),
            merkleRoot: try #require(Hash256(hex: "c86c8bbc1d6eeaa145069c8f5efc27f5987c3e3766016709406631c9682b5588")),
            treeSize: 2,
            checkpointedAt: t + 2000
        )
        #expect(checkpoint.canonicalBytes() == (try vector("checkpoint-v1")))
        #expect(try Checkpoint(canonicalBytes: vector("checkpoint-v1")[...]) == checkpoint)
        let signed = try SignedCheckpoint.sign(checkpoint, with: Self.root)
        #expect(signed.bytes == (try vector("signed-checkpoint-v1")))
        let decoded = try SignedCheckpoint(bytes: vector("signed-checkpoint-v1"))
        #expect(decoded.checkpoint == checkpoint)
        #expect(decoded.isSignatureValid(by: Self.root.publicIdentity))
        #expect(throws: RecordDecodingError.self) { try SignedCheckpoint(bytes: vector("signed-checkpoint-v1") + [0]) }
    }

    /// The checkpoint log holding the one signed checkpoint above (docs/FORMATS.md, "Checkpoint
    /// log"): its leaf, its verifier key and its signed note under the default origin.
    @Test func checkpointLogOfOneCheckpoint() throws {
        let entry = try vector("signed-checkpoint-v1")
        var appender = TileAppender(size: 0) { _, _ in [] }
        try appender.append(leafHash: Merkle.leafHash(entry))
        #expect(appender.changedTiles.map(\.hashes) == [[Merkle.leafHash(entry)]])
        #expect(try appender.root().bytes == (try vector("log-leaf-v1")))
        let origin = "gridledger-super-node/\(Self.root.id.hex)"
        let key = try NoteKey(name: origin, publicKey: Self.root.publicIdentity)
        #expect(
            key.verifierKey
                == "gridledger-super-node/448f04ffcba874db93d9fd02520daa58+c8f961d6+Aec06mwrYlfecjVeRyqgWkxIfmtGPAKe0wbfLwG1Y2tY"
        )
        let checkpoint = try LogCheckpoint(origin: origin, size: 1, rootHash: try appender.root())
        let note = try SignedNote.sign(checkpoint.text, key: key, with: Self.root)
        #expect(Array(note.encoded.utf8) == (try vector("log-note-v1")))
        try SignedNote(parsing: try vector("log-note-v1")).verify(by: try NoteKey(verifierKey: key.verifierKey))
        #expect(try EntryBundle.encode([entry]) == [0x00, 0xC2] + entry)
    }

    @Test func tntState() throws {
        var state = TNTState()
        let producer = TestKeys.producer.id
        try state.apply(.policy(PolicyRecord(policy: .splitTNT, offerToleranceWh: 100, timestamp: t)))
        try state.apply(
            .enrollment(Enrollment(meterKey: TestKeys.producer.publicIdentity, role: .producer, timestamp: t))
        )
        try state.apply(
            .enrollment(Enrollment(meterKey: TestKeys.consumer.publicIdentity, role: .consumer, timestamp: t))
        )
        try state.apply(
            .reading(
                Reading(meter: producer, sequence: 1, timestamp: t, values: [MeasuredValue(.energyExportWh, 10_000)])
            )
        )
        try state.apply(
            .reading(
                Reading(
                    meter: producer,
                    sequence: 2,
                    timestamp: t + 1000,
                    values: [MeasuredValue(.energyExportWh, 14_800)]
                )
            )
        )
        let offer = try Offer(producer: producer, sequence: 7, energyWh: 5000, validFrom: t, validUntil: t + 3_600_000)
        let credit = try state.credit(for: offer)
        #expect(
            credit
                == OfferCredit(
                    offeredWh: 5000,
                    creditedWh: 4900,
                    exportedWh: 4800,
                    toleranceWh: 100,
                    previouslyCreditedWh: 0
                )
        )
        #expect(credit.cutWh == 100)
        try state.apply(.offer(offer))
        try state.apply(
            .request(EnergyRequest(consumer: TestKeys.consumer.id, sequence: 3, energyWh: 1200, timestamp: t + 60_000))
        )
        #expect(state.canonicalBytes() == (try vector("tnt-state-v2")))
        #expect(state.digest().hex == "bc2cc603e785278c98bc78dd215db3d41f9fff5497f2759e16cce1925174fc61")

        // Version 3 of the same state with the meter key enrolled as a consumer too: three
        // meter leaves (the rows of version 2), one request leaf.
        try state.apply(.enrollment(Enrollment(meterKey: TestKeys.meter.publicIdentity, role: .consumer, timestamp: t)))
        let rows = state.canonicalBytes()
        let leaf = { (i: Int) in Merkle.leafHash(rows[(15 + 67 * i)..<(15 + 67 * (i + 1))]) }
        #expect(leaf(0).hex == "c7ec343f160fe3362d8e194078dbf4be2c0b1e6291a59c4bd42738c20c964966")
        #expect(leaf(1).hex == "a13cf58d9d51cf0aa8d847ae41cfff90a7b73be2e52f65cf84207c6195bf5604")
        #expect(leaf(2).hex == "b956c4ee68d72838ba9886f911c96698910beba62bb862a52c0d0c04ff91adbd")
        let meterRoot = Merkle.nodeHash(Merkle.nodeHash(leaf(0), leaf(1)), leaf(2))
        #expect(meterRoot.hex == "b876ffdcf8899c74aad08b9a5e1a09fa6a55fced12af8668f871947053f2d2b7")
        let pendingRoot = Merkle.leafHash(rows[(rows.count - 32)...])
        #expect(pendingRoot.hex == "594abd800ded269d548fa3d5cf0910de46f9a5202b5efccca52896bc9d7d2028")
        let encoding = try vector("tnt-state-v3")
        #expect(
            encoding
                == [0x20, 0x03, 0x02] + StateCommitmentTests.be64(100) + meterRoot.bytes + StateCommitmentTests.be64(3)
                + pendingRoot.bytes + StateCommitmentTests.be64(1)
        )
        #expect(state.commitmentDigest() == Hash256.sha256(encoding))
        #expect(state.commitmentDigest().hex == "c8f679f8cfa97afdf4e0407949fe086277cd878c78fb00039dc15095ce965ae6")
        #expect(StateCommitmentTests.referenceDigest(state) == Hash256.sha256(encoding))
    }
}

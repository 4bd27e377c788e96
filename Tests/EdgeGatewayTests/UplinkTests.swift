import ArgumentParser
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
@testable import OperatorKit

@Suite("Uplink: checkpoint checks, super node link, receipts with checkpoints")
struct UplinkTests {
    /// With several `--super-node` URLs the link uses one, and moves to the next (round robin)
    /// after a call to the one in use failed; a late failure of a URL it has left already
    /// does not move it twice.
    @Test func aLinkWithSeveralURLsMovesOnOnceFromTheOneThatFailed() throws {
        let root = TestKeys.key(0xab)
        let gateway = TestKeys.key(0xac)
        let certificate = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: root.id,
                gatewayKey: gateway.publicIdentity,
                serial: 1,
                issuedAt: 1_767_225_600_000,
                name: "gw"
            ),
            with: root
        )
        let link = SuperNodeLink(
            urls: ["http://a:8090/", "http://b:8090", "http://c:8090"],
            certificate: certificate,
            rootKeyPath: makeTempDir() + "/root.pub"
        )
        #expect(link.urls == ["http://a:8090", "http://b:8090", "http://c:8090"])
        #expect(link.url == "http://a:8090")
        #expect(link.moveOn(from: "http://a:8090/v1/blocks") == "http://b:8090")
        #expect(link.moveOn(from: "http://a:8090/v1/escalations") == "http://b:8090", "a late failure of A")
        #expect(link.moveOn(from: "http://ab:8090/v1/blocks") == "http://b:8090", "not a URL under B")
        #expect(link.moveOn(from: "http://b:8090") == "http://c:8090")
        #expect(link.moveOn(from: "http://c:8090/v1/blocks") == "http://a:8090", "round robin")
        let single = SuperNodeLink(url: "http://a:8090", certificate: certificate, rootKeyPath: "/nonexistent")
        #expect(single.moveOn(from: "http://a:8090/v1/blocks") == nil)
        #expect(single.url == "http://a:8090")
    }

    /// A gateway with one enrolled meter and two blocks (the enrollment, then a reading).
    static func chain() async throws -> (Harness, SigningIdentity, [SignedBlockHeader]) {
        let h = try await Harness.make()
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let results = try await h.post([try h.reading(meter, 1)])
        #expect(results.map(\.summary) == ["accepted"])
        await h.gateway.writer.sealNow()
        let store = h.gateway.writer.store
        let headers = try (0..<2).map { try #require(try store.header(atHeight: $0)) }
        return (h, meter, headers)
    }

    static func checkpoint(
        _ header: SignedBlockHeader,
        root: SigningIdentity,
        signer: SigningIdentity? = nil,
        edit: (inout Checkpoint) -> Void = { _ in }
    ) throws -> SignedCheckpoint {
        let h = header.header
        var c = Checkpoint(
            issuer: root.id,
            gateway: h.gateway,
            certificateSerial: 1,
            height: h.height,
            blockHash: header.hash,
            merkleRoot: h.merkleRoot,
            treeSize: h.treeSize,
            checkpointedAt: 1_767_225_602_000
        )
        edit(&c)
        let body = c.canonicalBytes()
        return try SignedCheckpoint(bytes: body + (try (signer ?? root).sign(body)))
    }

    /// A stand-in super node: records whether each push is signed by `gatewayKey` over its
    /// exact body and route, and answers every block with a checkpoint by `root`.
    final class SigningCheck: Sendable {
        let gatewayKey = Mutex<PublicIdentity?>(nil)
        let root: SigningIdentity
        /// Each push's stamp, and whether its signature held.
        let pushes = Mutex<[(stamp: RequestStamp, valid: Bool, blocks: Int)]>([])

        init(root: SigningIdentity) { self.root = root }

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.post("v1/blocks") { request, _ in
                var request = request
                let body = Array(buffer: try await request.collectBody(upTo: 1 << 24))
                let header = try #require(
                    request.headers.first { $0.name.canonicalName == "gridledger-signature" }?.value
                )
                let signed = try SignedRequestStamp(bytes: try #require(Data(base64Encoded: header)))
                let push = try JSONDecoder().decode(PushRequest.self, from: Data(body))
                let key = try #require(self.gatewayKey.withLock { $0 })
                let valid =
                    signed.isSignatureValid(by: key) && signed.stamp.bodyHash == Hash256.sha256(body)
                    && signed.stamp.routeHash == RequestStamp.route(method: "POST", path: "/v1/blocks")
                self.pushes.withLock { $0.append((signed.stamp, valid, push.blocks.count)) }
                let checkpoints = try push.blocks.map { text in
                    let block = try Block(wireBytes: Array(try #require(Data(base64Encoded: text))))
                    let h = block.header.header
                    return CheckpointView(
                        try SignedCheckpoint.sign(
                            Checkpoint(
                                issuer: self.root.id,
                                gateway: h.gateway,
                                certificateSerial: 1,
                                height: h.height,
                                blockHash: block.hash,
                                merkleRoot: h.merkleRoot,
                                treeSize: h.treeSize,
                                checkpointedAt: 1_767_225_602_000
                            ),
                            with: self.root
                        )
                    )
                }
                let data = try JSONEncoder().encode(PushResponse(checkpoints: checkpoints, rejected: nil))
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            return router
        }
    }

    @Test func theUplinkSignsEachPushWithTheGatewayKeyOverItsExactBody() async throws {
        let fake = SigningCheck(root: EscalationAPITests.root)
        try await Application(router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in
                let h = try await EscalationAPITests.harness(url: "http://127.0.0.1:\(try #require(client.port))")
                defer { h.close() }
                fake.gatewayKey.withLock { $0 = try? h.dir.loadKey().publicIdentity }
                try await h.enroll(SigningIdentity())
                await h.gateway.writer.sealNow()
                let uplink = try #require(h.gateway.uplink)
                uplink.serverBound(url: "http://127.0.0.1:8080")
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await uplink.run() }
                    try await waitUntil("the uplink's blocks checkpointed") {
                        uplink.view().unacknowledgedBlocks == 0 && uplink.view().lastCheckpointedHeight != nil
                    }
                    group.cancelAll()
                }
                let pushes = fake.pushes.withLock { $0 }
                #expect(!pushes.isEmpty && pushes.allSatisfy(\.valid))
                #expect(pushes.map(\.stamp.timestamp).allSatisfy { $0 == h.clock.now })
                // A fresh nonce each time.
                #expect(Set(pushes.map(\.stamp.nonce)).count == pushes.count)
            }
    }

    @Test func aCheckpointIsStoredOnlyWhenItIsTheRootKeysAndNamesOurBlock() async throws {
        let (h, _, headers) = try await Self.chain()
        defer { h.close() }
        let root = SigningIdentity()
        let store = h.gateway.checkpoints
        let block = headers[1]
        let forged: [(String, SignedCheckpoint, String)] = [
            (
                "another gateway", try Self.checkpoint(block, root: root) { $0.gateway = SigningIdentity().id },
                "names gateway"
            ),
            ("another height", try Self.checkpoint(block, root: root) { $0.height = 0 }, "is for block 0"),
            (
                "another block hash", try Self.checkpoint(block, root: root) { $0.blockHash = headers[0].hash },
                "block hash"
            ),
            (
                "another merkle root",
                try Self.checkpoint(block, root: root) { $0.merkleRoot = headers[0].header.merkleRoot }, "merkle root"
            ),
            ("another tree size", try Self.checkpoint(block, root: root) { $0.treeSize += 1 }, "tree size"),
            (
                "signed by another key", try Self.checkpoint(block, root: root, signer: SigningIdentity()),
                "bad signature"
            ),
            ("issued by another root", try Self.checkpoint(block, root: SigningIdentity()), "names issuer"),
        ]
        for (what, checkpoint, message) in forged {
            #expect(throws: CheckpointRefusal.self, "\(what)") {
                try store.store(checkpoint, for: block, root: root.publicIdentity, at: 0)
            }
            do { try store.store(checkpoint, for: block, root: root.publicIdentity, at: 0) } catch {
                #expect("\(error)".contains(message), "\(what): \(error)")
            }
        }
        #expect(try store.count() == 0, "nothing refused was stored")
        #expect(try store.lastHeight() == nil)

        try store.store(try Self.checkpoint(block, root: root), for: block, root: root.publicIdentity, at: 5)
        try store.store(try Self.checkpoint(headers[0], root: root), for: headers[0], root: root.publicIdentity, at: 6)
        #expect(try store.count() == 2)
        #expect(try store.lastHeight() == 1)
        #expect(try store.checkpoint(height: 1)?.checkpoint.checkpoint.blockHash == block.hash)
        #expect(try store.list(from: 0, limit: 10).map(\.checkpoint.checkpoint.height) == [0, 1])

        let view = try await h.get("/v1/uplink", as: UplinkView.self)
        #expect(view.configured == false && view.state == "off")
        #expect(view.lastCheckpointedHeight == 1 && view.sealedHeight == 1 && view.unacknowledgedBlocks == 0)
    }

    @Test func receiptsCarryTheCheckpointAndVerifyOffline() async throws {
        let (h, meter, headers) = try await Self.chain()
        defer { h.close() }
        let root = SigningIdentity()
        let uri = "/v1/readings/\(meter.id.hex)/1/receipt"
        let before = try await h.get(uri, as: ReceiptView.self)
        #expect(before.checkpoint == nil && before.checkpointed == false)
        #expect(throws: ReceiptFailure.missingCheckpoint(height: 1)) {
            try ReceiptVerifier.verify(try JSONEncoder().encode(before), rootKey: root.publicIdentity)
        }

        try h.gateway.checkpoints.store(
            try Self.checkpoint(headers[1], root: root),
            for: headers[1],
            root: root.publicIdentity,
            at: 0
        )
        let receipt = try await h.get(uri, as: ReceiptView.self)
        #expect(receipt.checkpointed == true && receipt.checkpoint?.height == 1)
        let lines = try ReceiptVerifier.verify(try JSONEncoder().encode(receipt), rootKey: root.publicIdentity)
        #expect(lines.count == 3)

        func failure(_ receipt: ReceiptView, root: PublicIdentity) -> ReceiptFailure? {
            let json = try! JSONEncoder().encode(receipt)
            do throws(ReceiptFailure) {
                try ReceiptVerifier.verify(json, rootKey: root)
                return nil
            } catch { return error }
        }
        // A tampered record.
        var tampered = receipt
        var bytes = Array(Data(base64Encoded: receipt.record)!)
        bytes[bytes.count / 2] ^= 0x01
        tampered.record = Data(bytes).base64EncodedString()
        guard case .tamperedRecord? = failure(tampered, root: root.publicIdentity) else {
            Issue.record("a tampered record: \(String(describing: failure(tampered, root: root.publicIdentity)))")
            return
        }
        // The wrong root key.
        guard case .wrongRootKey? = failure(receipt, root: SigningIdentity().publicIdentity) else {
            Issue.record("the wrong root key")
            return
        }
        // The checkpoint of another block, properly signed.
        var other = receipt
        other.checkpoint = CheckpointEntryView(try Self.checkpoint(headers[0], root: root))
        guard case let .otherBlock(message)? = failure(other, root: root.publicIdentity) else {
            Issue.record("a checkpoint of another block")
            return
        }
        #expect(message.contains("block 0"), "\(message)")
        // A header signed by another key.
        var foreign = receipt
        foreign.gatewayKey = KeyFile.publicKeyLine(SigningIdentity().publicIdentity)
        guard case .badHeader? = failure(foreign, root: root.publicIdentity) else {
            Issue.record("a foreign gateway key")
            return
        }
    }

    @Test func serveFlagsAreCheckedTogether() throws {
        let d = makeTempDir()
        #expect(throws: (any Error).self) {
            try ServeCommand.parse(["--data", d, "--super-node", "http://127.0.0.1:8090"])
        }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", d, "--certificate", "gw.cert"]) }
        #expect(throws: (any Error).self) {
            try ServeCommand.parse(["--data", d, "--advertise-url", "http://10.0.0.7:8080"])
        }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", d, "--super-node-key", "root.key.pub"]) }
        #expect(throws: (any Error).self) {
            try ServeCommand.parse(["--data", d, "--super-node", "ftp://x", "--certificate", "gw.cert"])
        }
        #expect(throws: (any Error).self) {
            try ServeCommand.parse([
                "--data", d, "--super-node", "http://sn:8090", "--certificate", "gw.cert", "--advertise-url",
                "gateway-7",
            ])
        }
        do {
            _ = try ServeCommand.parse(["--data", d, "--super-node", "http://127.0.0.1:8090"])
        } catch {
            #expect(
                ServeCommand.message(for: error).contains("--super-node needs --certificate"),
                "\(ServeCommand.message(for: error))"
            )
        }
        let ok = try ServeCommand.parse([
            "--data", d, "--super-node", "http://127.0.0.1:8090", "--certificate", "gw.cert",
            "--advertise-url", "http://10.0.0.7:8080", "--super-node-key", "root.key.pub",
        ])
        #expect(
            ok.superNode == "http://127.0.0.1:8090" && ok.certificate == "gw.cert"
                && ok.advertiseURL == "http://10.0.0.7:8080"
        )
    }

    @Test func theCertificateMustBeForThisGatewayAndTheRootKeyItsIssuer() throws {
        let dir = DataDirectory(makeTempDir())
        let key = try dir.initialise()
        let root = SigningIdentity()
        func certificate(for gateway: PublicIdentity, signer: SigningIdentity = root) throws -> String {
            let cert = try GatewayCertificate(
                issuer: root.id,
                gatewayKey: gateway,
                serial: 7,
                issuedAt: 0,
                name: "feeder"
            )
            let path = dir.path + "/\(UUID().uuidString).cert"
            let body = cert.canonicalBytes()
            try SignedGatewayCertificate(bytes: body + (try signer.sign(body))).fileText.write(
                toFile: path,
                atomically: true,
                encoding: .utf8
            )
            return path
        }
        func load(_ cert: String, pinned: String? = nil) throws -> SuperNodeLink {
            try SuperNodeLink.load(
                urls: ["http://127.0.0.1:8090/"],
                certificateFile: cert,
                pinnedRootKeyFile: pinned,
                directory: dir,
                gatewayKey: key.publicIdentity
            )
        }
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return ""
            } catch { return "\(error)" }
        }
        // Another gateway's certificate, a file that is no certificate, a missing file.
        #expect(
            message { try load(try certificate(for: SigningIdentity().publicIdentity)) }.contains(
                "but this gateway is \(key.id.hex)"
            )
        )
        let garbage = dir.path + "/garbage.cert"
        try "hello".write(toFile: garbage, atomically: true, encoding: .utf8)
        #expect(message { try load(garbage) }.contains("is not a gateway certificate"))
        #expect(message { try load(dir.path + "/none.cert") }.contains("cannot read the certificate file"))

        // Our certificate: no root key yet; it is fetched later.
        let good = try certificate(for: key.publicIdentity)
        let link = try load(good)
        #expect(link.url == "http://127.0.0.1:8090" && link.rootKey == nil && link.certificate.certificate.serial == 7)
        #expect(link.problem(with: SigningIdentity().publicIdentity)?.contains("is not the issuer") == true)
        #expect(link.problem(with: root.publicIdentity) == nil)
        try link.keep(root.publicIdentity)
        #expect(try KeyFile.readPublicKey(from: dir.rootKeyPath) == root.publicIdentity)
        #expect(try load(good).rootKey == root.publicIdentity, "the kept root key is used by the next run")

        // A pinned key that is not the issuer is refused; a kept key of another super node too.
        let strangerPub = dir.path + "/stranger.pub"
        try KeyFile.writePublicKey(SigningIdentity().publicIdentity, to: strangerPub)
        #expect(message { try load(good, pinned: strangerPub) }.contains("--super-node-key"))
        try KeyFile.writePublicKey(SigningIdentity().publicIdentity, to: dir.rootKeyPath, overwrite: true)
        #expect(message { try load(good) }.contains("remove that file"))
        // A certificate whose signature is not the root key's (altered file), with the key known.
        let rootPub = dir.path + "/root.pub"
        try KeyFile.writePublicKey(root.publicIdentity, to: rootPub)
        let altered = try certificate(for: key.publicIdentity, signer: SigningIdentity())
        #expect(message { try load(altered, pinned: rootPub) }.contains("does not verify"))
        #expect(try load(good, pinned: rootPub).rootKey == root.publicIdentity)
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import GridAPI
import Hummingbird
import Logging
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore
@testable import OperatorKit
@testable import SuperNode
@testable import SuperNodeCore

@Suite("Super node commands: init, certify, revoke, serve")
struct CommandTests {
    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    func expectError(_ contains: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected an error containing '\(contains)'")
        } catch {
            #expect("\(error)".contains(contains), "\(error)")
        }
    }

    @Test func initCertifyRevokeInProcess() async throws {
        let base = makeTempDir()
        let data = base + "/super"
        try await InitCommand.parse(["--data", data]).run()
        let dir = SuperDirectory(data)
        #expect(mode(dir.keyPath) == 0o600)
        #expect(FileManager.default.fileExists(atPath: dir.storePath))
        let root = try KeyFile.readPublicKey(from: dir.publicKeyPath)
        #expect(try dir.loadKey().publicIdentity == root)
        await expectError("refusing to overwrite") { try await InitCommand.parse(["--data", data]).run() }

        // Certify a gateway key file.
        let gateway = SigningIdentity()
        let pub = base + "/gateway.key.pub"
        try KeyFile.writePublicKey(gateway.publicIdentity, to: pub, comment: "edge-gateway")
        let out = base + "/gw.cert"
        try await CertifyCommand.parse(["--data", data, "--gateway-key", pub, "--name", "Feeder 7", "--out", out]).run()
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("-----BEGIN GRIDLEDGER GATEWAY CERTIFICATE-----"))
        let cert = try SignedGatewayCertificate(fileText: text)
        #expect(cert.isSignatureValid(by: root))
        #expect(cert.certificate.gatewayKey == gateway.publicIdentity)
        #expect(cert.certificate.name == "Feeder 7")
        #expect(cert.certificate.serial == 1)

        // Certifying again while the certificate is valid is refused; so is overwriting --out.
        await expectError("already holds certificate serial 1") {
            try await CertifyCommand.parse([
                "--data", data, "--gateway-key", pub, "--name", "again", "--out", base + "/other.cert",
            ]).run()
        }
        await expectError("already exists") {
            try await CertifyCommand.parse(["--data", data, "--gateway-key", pub, "--name", "again", "--out", out])
                .run()
        }
        #expect(throws: (any Error).self) {
            try CertifyCommand.parse(["--data", data, "--gateway-key", pub, "--name", ""])
        }
        await expectError("run `super-node init --data") {
            try await CertifyCommand.parse([
                "--data", base + "/nowhere", "--gateway-key", pub, "--name", "x", "--out", base + "/x.cert",
            ]).run()
        }
        await expectError("expected 'ed25519 <base64> [comment]'") {
            try await CertifyCommand.parse([
                "--data", data, "--gateway-key", out, "--name", "x", "--out", base + "/x.cert",
            ]).run()
        }

        // Revoke: by serial, then nothing left to revoke by gateway; a new certificate after that.
        #expect(throws: (any Error).self) { try RevokeCommand.parse(["--data", data]) }
        #expect(throws: (any Error).self) {
            try RevokeCommand.parse(["--data", data, "--serial", "1", "--gateway", gateway.id.hex])
        }
        #expect(throws: (any Error).self) { try RevokeCommand.parse(["--data", data, "--gateway", "xyz"]) }
        await expectError("no certificate with serial 9") {
            try await RevokeCommand.parse(["--data", data, "--serial", "9"]).run()
        }
        try await RevokeCommand.parse(["--data", data, "--serial", "1"]).run()
        await expectError("already revoked") { try await RevokeCommand.parse(["--data", data, "--serial", "1"]).run() }
        await expectError("already revoked") {
            try await RevokeCommand.parse(["--data", data, "--gateway", gateway.id.hex]).run()
        }
        try await CertifyCommand.parse([
            "--data", data, "--gateway-key", pub, "--name", "Feeder 7b", "--out", base + "/gw2.cert",
        ]).run()
        try await RevokeCommand.parse(["--data", data, "--gateway", gateway.id.hex]).run()
        let rows = try await dir.openStore().read { db in try AuthorityStore.certificates(db) }
        #expect(rows.map(\.certificate.serial) == [1, 2])
        #expect(rows.allSatisfy { $0.revokedAt != nil })
    }

    @Test func helpTextNamesEveryCommand() {
        let help = SuperNodeCommand.helpMessage()
        for command in ["init", "certify", "revoke", "serve"] { #expect(help.contains(command)) }
        #expect(CertifyCommand.helpMessage().contains("--gateway-key"))
        #expect(RevokeCommand.helpMessage().contains("--serial"))
        #expect(ServeCommand.helpMessage().contains("super-node.url"))
    }

    @Test func serveWritesTheURLAndAnswersOverHTTP() async throws {
        let h = try await NodeHarness.make()
        let gateway = TestKeys.key(0x99)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let listen = ListenAddress(argument: "127.0.0.1:0")!
        let group = h.node.makeServiceGroup(directory: h.dir, listen: listen, handleSignals: false)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await h.node.run(group, directory: h.dir, listen: listen) }
            var url: String?
            for _ in 0..<400 where url == nil {
                url = (try? String(contentsOfFile: h.dir.urlPath, encoding: .utf8))?.trimmingCharacters(
                    in: .whitespacesAndNewlines
                )
                if url == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            let base = try #require(url)
            #expect(base.hasPrefix("http://127.0.0.1:"))
            #expect(!base.hasSuffix(":0"))
            // A push as a gateway's uplink sends it: signed with the gateway's key.
            let answer = try await SuperNodeClient(base: base).push(
                PushRequest(
                    certificate: Data(cert.bytes).base64EncodedString(),
                    blocks: chain.blocks.map { Data($0.wireBytes()).base64EncodedString() }
                ),
                signer: RequestSigner(key: gateway, clock: h.clock.function),
                timeout: .seconds(30)
            )
            #expect(answer.status == 200)
            let pushed = answer.body
            #expect(pushed.checkpoints.count == chain.blocks.count)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!FileManager.default.fileExists(atPath: h.dir.urlPath))
    }

    @Test func serveRefusesADirectoryAnotherServerHolds() async throws {
        let h = try await NodeHarness.make()
        let lock = try #require(try DirectoryLock(path: h.dir.lockPath))  // as a running `serve` holds it
        await expectError("another super-node is serving") {
            try await ServeCommand.parse(["--data", h.dir.path, "--listen", "127.0.0.1:0"]).run()
        }
        await expectError("run `super-node init --data") {
            try await ServeCommand.parse(["--data", makeTempDir(), "--listen", "127.0.0.1:0"]).run()
        }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", h.dir.path, "--listen", "localhost"]) }
        withExtendedLifetime(lock) {}
    }
}

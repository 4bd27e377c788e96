import ArgumentParser
import AsyncHTTPClient
import Foundation
import GridAPI
import Hummingbird
import Logging
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore
@testable import OperatorKit

@Suite("Commands: init, enroll, serve, inspect, verify")
struct CommandTests {
    @Test func initCreatesTheDataDirectoryAndRefusesToOverwrite() throws {
        let dir = DataDirectory(makeTempDir() + "/nested/gw")
        let key = try dir.initialise()
        for path in [dir.keyPath, dir.publicKeyPath, dir.tokenPath, dir.chainPath] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        let mode = { (path: String) in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
        }
        #expect(mode(dir.keyPath) == 0o600)
        #expect(mode(dir.tokenPath) == 0o600)
        #expect(try dir.loadToken().count == 64)
        #expect(try dir.loadKey().id == key.id)
        #expect(try KeyFile.readPublicKey(from: dir.publicKeyPath) == key.publicIdentity)
        #expect(throws: OperatorError.self) { try dir.initialise() }
        do { try dir.initialise() } catch {
            #expect("\(error)".contains("already an initialised gateway data directory"))
        }
        #expect(try VerifyCommand.check(dir).ok)
    }

    /// Whoever can write to the data directory can replace the key, the token or the chain.
    @Test func theDataDirectoryIsPrivateAndOneOthersCanWriteToIsRefused() throws {
        let mode = { (path: String) in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
        }
        let fresh = DataDirectory(makeTempDir())
        try fresh.initialise()
        #expect(mode(fresh.path) == 0o700)

        let existing = makeTempDir()
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: true)
        #expect(chmod(existing, 0o755) == 0)
        try DataDirectory(existing).initialise()
        #expect(mode(existing) == 0o700, "an existing empty directory is made private")

        let shared = makeTempDir()
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        #expect(chmod(shared, 0o777) == 0)
        #expect(throws: OperatorError.self) { try DataDirectory(shared).initialise() }
        #expect(!FileManager.default.fileExists(atPath: DataDirectory(shared).keyPath))

        #expect(chmod(fresh.path, 0o775) == 0)
        do {
            try fresh.requireInitialised()
            Issue.record("a group-writable data directory was accepted")
        } catch {
            #expect("\(error)".contains("writable by group or others (mode 0775); run `chmod 700"))
        }
    }

    @Test func clearErrorsForMissingDirectoryAndOpenKeyFile() async throws {
        let missing = DataDirectory(makeTempDir())
        do {
            _ = try missing.loadKey()
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("run `edge-gateway init --data"))
        }
        let dir = DataDirectory(makeTempDir())
        try dir.initialise()
        chmod(dir.keyPath, 0o644)
        do {
            _ = try await Gateway.open(directory: dir, logger: LogCapture().logger)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("chmod 600 \(dir.keyPath)"))
        }
        let noChain = DataDirectory(makeTempDir())
        try noChain.initialise()
        try FileManager.default.removeItem(atPath: noChain.chainPath)
        do {
            _ = try await Gateway.open(directory: noChain, logger: LogCapture().logger)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("is missing"))
        }
        #expect(ListenAddress(argument: "localhost") == nil)
        #expect(ListenAddress(argument: "127.0.0.1:99999") == nil)
        #expect(ListenAddress(argument: "[::1]:0")?.host == "::1")
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", dir.path, "--listen", "nope"]) }
        #expect(throws: (any Error).self) {
            try EnrollCommand.parse(["--data", dir.path, "--meter-key", "x.pub", "--role", "boss"])
        }
    }

    @Test func enrollAndRevokeDirectlyWhenNoServerRuns() async throws {
        let dir = DataDirectory(makeTempDir())
        try dir.initialise()
        let meter = SigningIdentity()
        let pub = dir.path + "/meter.pub"
        try KeyFile.writePublicKey(meter.publicIdentity, to: pub, comment: "meter-1")
        let enroll = try EnrollCommand.parse(["--data", dir.path, "--meter-key", pub, "--role", "producer"])
        try await enroll.run()
        let again = try EnrollCommand.parse(["--data", dir.path, "--meter-key", pub])
        await #expect(throws: OperatorError.self) { try await again.run() }
        let revoke = try RevokeCommand.parse(["--data", dir.path, "--meter", meter.id.hex])
        try await revoke.run()

        let summary = try VerifyCommand.check(dir)
        #expect(summary.ok)
        #expect(summary.blocks == 2)
        #expect(summary.entries == 2)
        let store = try ChainStore(path: dir.chainPath)
        #expect(try store.entries(ofType: .enrollment).count == 1)
        #expect(try store.entries(ofType: .revocation).count == 1)
    }

    @Test func serveOnPortZeroWritesTheURLAndEnrollGoesThroughTheServer() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let lock = try #require(try DirectoryLock(path: h.dir.lockPath))  // as `serve` holds it
        let listen = ListenAddress(argument: "127.0.0.1:0")!
        let group = h.gateway.makeServiceGroup(listen: listen, sealTick: .milliseconds(50), handleSignals: false)
        let meter = SigningIdentity()
        let pub = h.dir.path + "/meter.pub"
        try KeyFile.writePublicKey(meter.publicIdentity, to: pub)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await h.gateway.run(group, listen: listen) }
            var url: String?
            for _ in 0..<200 where url == nil {
                url = h.dir.urlFile.read()
                if url == nil { try await Task.sleep(for: .milliseconds(25)) }
            }
            let base = try #require(url)
            #expect(base.hasPrefix("http://127.0.0.1:"))
            #expect(!base.hasSuffix(":0"))

            // A second server on the same port: one clear line.
            let port = Int(base.split(separator: ":").last!)!
            let other = try await Harness.make()
            defer { other.close() }
            let taken = ListenAddress(argument: "127.0.0.1:\(port)")!
            do {
                try await other.gateway.run(
                    other.gateway.makeServiceGroup(listen: taken, sealTick: .seconds(1), handleSignals: false),
                    listen: taken
                )
                Issue.record("expected address in use")
            } catch {
                #expect("\(error)".contains("already in use"))
            }

            // The server holds the lock, so `enroll` uses the admin endpoint.
            let enroll = try EnrollCommand.parse(["--data", h.dir.path, "--meter-key", pub])
            try await enroll.run()
            #expect(await h.gateway.writer.meter(meter.id)?.0.active == true)

            // Readings over real HTTP; the sealer seals them by time.
            var request = HTTPClientRequest(url: base + "/v1/readings")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(
                ByteBuffer(bytes: try JSONEncoder().encode(IngestBatch(signed: [try h.reading(meter, 1)])))
            )
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
            let results = try JSONDecoder().decode(
                IngestResponse.self,
                from: Data(buffer: try await response.body.collect(upTo: 1 << 20))
            )
            #expect(results.results.map(\.summary) == ["accepted"])
            let health = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: base + "/healthz"),
                timeout: .seconds(10)
            )
            #expect(health.status.code == 200)

            // Graceful stop: pending entries are sealed, the URL file is removed.
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(await h.gateway.writer.health().pending == 0)
        #expect(try h.gateway.writer.store.reading(meter: meter.id, sequence: 1) != nil)
        #expect(h.dir.urlFile.read() == nil)
        withExtendedLifetime(lock) {}
    }

    @Test func verifyNamesTheBlockAndEntryOfAChangedByte() async throws {
        let h = try await Harness.make()
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post(try (1...4).map { try h.reading(meter, UInt64($0)) })
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(meter, 5)])
        await h.gateway.writer.sealNow()
        h.close()
        #expect(try VerifyCommand.check(h.dir).ok)

        // Flip one byte inside the value of entry 3 (reading 3, in block 1).
        let store = try ChainStore(path: h.dir.chainPath, check: .none)
        try store.executeRawSQLForTesting(
            "UPDATE entry SET bytes = substr(bytes, 1, 60) || X'FF' || substr(bytes, 62) WHERE idx = 3"
        )
        let summary = try VerifyCommand.check(h.dir)
        #expect(!summary.ok)
        #expect(summary.failure?.height == 1)
        #expect(summary.failure?.entryIndex == 3)
        #expect(summary.failure?.problem.isEmpty == false)
        let command = try VerifyCommand.parse(["--data", h.dir.path])
        await #expect(throws: ExitCode.self) { try await command.run() }
        // The gateway refuses to start on it, saying why.
        do {
            _ = try await h.reopen()
            Issue.record("expected the gateway to refuse a damaged chain")
        } catch {
            // Block 1 is after the resume snapshot (block 0's), so start-up reads it back.
            #expect("\(error)".contains("resume snapshot") && "\(error)".contains("block 1"), "\(error)")
        }
    }

    @Test func inspectWorksBesideARunningGateway() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        _ = try await h.post([try h.reading(meter, 1), try h.reading(meter, 2, status: .tamper)])
        await h.gateway.writer.sealNow()
        _ = try await h.post([try h.reading(meter, 3)])  // pending
        for args in [
            ["blocks"], ["block", "1"], ["meter", meter.id.hex], ["anomalies"], ["receipt", meter.id.hex, "2"],
        ] {
            let plain = try InspectCommand.parse(["--data", h.dir.path] + args)
            try await plain.run()
            let json = try InspectCommand.parse(["--data", h.dir.path, "--json"] + args)
            try await json.run()
        }
        let pending = try InspectCommand.parse(["--data", h.dir.path, "receipt", meter.id.hex, "3"])
        do {
            try await pending.run()
            Issue.record("expected an error for a pending reading")
        } catch {
            #expect("\(error)".contains("not yet sealed"))
        }
        #expect(throws: (any Error).self) { try InspectCommand.parse(["--data", h.dir.path, "everything"]) }
        #expect(throws: (any Error).self) { try InspectCommand.parse(["--data", h.dir.path, "block"]) }
    }
}

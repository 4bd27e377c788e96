import Foundation
import LedgerStore
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNode
@testable import SuperNodeCore

/// Replicas of one super node on one PostgreSQL store (docs/SCALING.md): any replica takes
/// any push and audits it under the gateway's lock, so the chain, its checkpoints and the
/// checkpoint log are one whichever replica a gateway reaches; the register is read on every
/// request, so a revocation holds on all at once; a replica that stops answering in the
/// middle of a transaction is fenced off by the server and commits nothing.
@Suite("Replicas on one PostgreSQL store", .postgres)
struct ReplicaTests {
    let gatewayA = TestKeys.key(0x51)
    let gatewayB = TestKeys.key(0x52)

    @Test func pushesToEitherReplicaExtendOneAuditedChainAndOneLog() async throws {
        let a = try await NodeHarness.make(store: .postgres)
        let b = try await a.replica()
        let certA = try await a.certify(gatewayA, name: "a")
        let certB = try await a.certify(gatewayB, name: "b")
        var chainA = try ChainMaker.standard(gateway: gatewayA)
        var chainB = try ChainMaker.standard(gateway: gatewayB)
        try chainA.more()
        try chainB.more()
        // Each block goes to the other replica than the one before: each replica's held
        // audit falls behind the store and is brought up to it.
        for height in 0..<chainA.blocks.count {
            let (first, second) = height.isMultiple(of: 2) ? (a, b) : (b, a)
            let pushedA = try await first.push(certA, [chainA.blocks[height]])
            #expect(pushedA.status == 200, "block \(height) of A: \(String(describing: pushedA.reasons))")
            let pushedB = try await second.push(certB, [chainB.blocks[height]])
            #expect(pushedB.status == 200, "block \(height) of B: \(String(describing: pushedB.reasons))")
        }
        let tipsA = try await a.node.auditedTips()
        #expect(tipsA == (try await b.node.auditedTips()))
        #expect(tipsA[gatewayA.id]?.height == UInt64(chainA.blocks.count - 1))
        for height in 0..<UInt64(chainA.blocks.count) {
            let fromA = try await a.node.checkpoint(gateway: gatewayA.id, height: height)
            let fromB = try await b.node.checkpoint(gateway: gatewayA.id, height: height)
            #expect(fromA != nil && fromA == fromB)
        }
        let head = try await a.node.store.read { db in try CheckpointLog.head(db) }
        #expect(head.size == UInt64(chainA.blocks.count + chainB.blocks.count))
        for replica in [a, b] {
            for (gateway, chain) in [(gatewayA, chainA), (gatewayB, chainB)] {
                #expect(
                    try await ResidentAuditsTests.audited(replica, gateway)
                        == (try ResidentAuditsTests.replayed(chain.blocks, gateway: gateway))
                )
            }
        }
        // A tampered copy sent to the replica that did not accept the block is a fork there too.
        var tampered = chainA.blocks[4].wireBytes()
        tampered[tampered.count - 1] ^= 0x01
        let fork = try await b.push(
            rawCertificate: Data(certA.bytes).base64EncodedString(),
            blocks: [Data(tampered).base64EncodedString()]
        )
        #expect(fork.reasons == "fork")
    }

    @Test func theSameBlocksPushedToBothReplicasAtOnceGetOneCheckpointEach() async throws {
        let a = try await NodeHarness.make(store: .postgres)
        let b = try await a.replica()
        let cert = try await a.certify(gatewayA)
        var chain = try ChainMaker.standard(gateway: gatewayA)
        try chain.more()
        let blocks = chain.blocks
        async let toA = a.push(cert, blocks)
        async let toB = b.push(cert, blocks)
        let (answerA, answerB) = try await (toA, toB)
        #expect(answerA.status == 200 && answerB.status == 200)
        #expect(answerA.response.checkpoints.map(\.checkpoint) == answerB.response.checkpoints.map(\.checkpoint))
        // Each height was checkpointed by one replica and answered as a replay by the other.
        for (x, y) in zip(answerA.response.checkpoints, answerB.response.checkpoints) {
            #expect(x.replayed != y.replayed, "height \(x.height)")
        }
        let head = try await a.node.store.read { db in try CheckpointLog.head(db) }
        #expect(head.size == UInt64(blocks.count))
    }

    @Test func aRevocationThroughTheStoreHoldsOnEveryReplicaAtOnce() async throws {
        let a = try await NodeHarness.make(store: .postgres)
        let b = try await a.replica()
        let cert = try await a.certify(gatewayA)
        let chain = try ChainMaker.standard(gateway: gatewayA)
        #expect(try await b.push(cert, [chain.blocks[0]]).status == 200)
        try await RevokeCommand.parse(a.dataArguments + ["--gateway", gatewayA.id.hex]).run()
        #expect(try await a.push(cert, [chain.blocks[1]]).reasons == "revoked-certificate")
        #expect(try await b.push(cert, [chain.blocks[1]]).reasons == "revoked-certificate")
    }

    @Test func aReplicaThatStopsInTheMiddleOfATransactionIsFencedOffAndCommitsNothing() async throws {
        let a = try await NodeHarness.make(store: .postgres)
        let cert = try await a.certify(gatewayA)
        let chain = try ChainMaker.standard(gateway: gatewayA)
        #expect(try await a.push(cert, [chain.blocks[0]]).status == 200)
        let paused = try await a.replica(fenceAfter: .seconds(1))
        let gateway = gatewayA.id
        // The replica takes the gateway's lock, then stops answering the server (as under
        // SIGSTOP) for longer than it may.
        let (locked, holding) = AsyncStream<Void>.makeStream()
        let stalled = Task {
            defer { holding.finish() }  // a session that fails before the lock ends the wait too
            try await paused.node.store.session { db in
                try db.transaction {
                    try db.serialize(on: .gateway(gateway))
                    holding.yield()
                    Thread.sleep(forTimeInterval: 4)
                    try AuthorityStore.setEndpoint("http://stalled.invalid", gateway: gateway, at: 0, db)
                }
            }
        }
        var lockTaken = locked.makeAsyncIterator()
        _ = await lockTaken.next()
        // The other replica's push waits for the lock (unless the server has ended the stalled
        // transaction already), and goes through.
        let pushed = try await a.push(cert, [chain.blocks[1]])
        #expect(pushed.status == 200, "\(String(describing: pushed.reasons))")
        await #expect(throws: (any Error).self) { try await stalled.value }
        #expect(try await a.node.gatewayEndpoints()[gateway] == nil)
        // The fenced replica, answering again, goes on with a new connection.
        #expect(try await paused.node.auditedTips()[gateway]?.height == 1)
    }

    @Test func aReplicaWithARootKeyOfItsOwnIsRefusedWithOneLine() async throws {
        let a = try await NodeHarness.make(store: .postgres)
        let stranger = SuperDirectory(makeTempDir(), postgres: a.dir.postgres)
        do {
            try await stranger.initialise()
            Issue.record("a directory with another root key opened the store")
        } catch let error as AuthorityError {
            let line = error.description
            #expect(!line.contains("\n"))
            #expect(line.contains(a.node.root.id.hex) && line.contains("copy"), "\(line)")
        }
        // The first replica's copy is taken.
        _ = try await a.replica()
    }

    @Test func initWithAnUnreachableStoreCreatesNothingSoItCanBeRunAgain() async throws {
        let path = makeTempDir()
        let unreachable = SuperDirectory(path, postgres: try PostgresLocation("postgres://gridledger@127.0.0.1:1/none"))
        await #expect(throws: AuthorityError.self) { try await unreachable.initialise() }
        #expect(!FileManager.default.fileExists(atPath: path))
        // With a store that answers, the same directory is initialised.
        let reachable = SuperDirectory(path, postgres: try await PostgresServer.newDatabase())
        try await reachable.initialise()
        #expect(reachable.isInitialised)
    }

    @Test(arguments: StoreKind.allCases) func anEscalationClaimHoldsUntilReleasedOrItsLeaseRunsOut(
        store: StoreKind
    )
        async throws
    {
        let h = try await NodeHarness.make(store: store)
        let request = Hash256.sha256([1, 2, 3])
        let lease: Int64 = 60_000
        func claim(at time: Int64) async throws -> Bool {
            try await h.node.store.write { db in
                try AuthorityStore.claimEscalation(request, at: time, lease: lease, db)
            }
        }
        #expect(try await claim(at: 1_000_000))
        #expect(try await !claim(at: 1_000_000))
        #expect(try await !claim(at: 1_000_000 + lease - 1))
        // The claimant was killed: once the lease has run out another escalation may claim it.
        #expect(try await claim(at: 1_000_000 + lease + 1))
        // The first claimant's late release leaves the new claim in place.
        try await h.node.store.write { db in try AuthorityStore.releaseEscalation(request, claimedAt: 1_000_000, db) }
        #expect(try await !claim(at: 1_000_000 + lease + 2))
        try await h.node.store.write { db in
            try AuthorityStore.releaseEscalation(request, claimedAt: 1_000_000 + lease + 1, db)
        }
        #expect(try await claim(at: 1_000_000 + lease + 3))
        // An extreme clock cannot overflow the comparison.
        #expect(try await claim(at: .min) == false, "the claim is held")
    }

    @Test func aStoreURLIsParsedOrRefusedWithWhatIsWrongAndItsPasswordIsNeverPrinted() throws {
        let full = try PostgresLocation("postgres://grid:s3cret@db.example.net:6543/authority")
        #expect(full.host == "db.example.net" && full.port == 6543 && full.username == "grid")
        #expect(full.password == "s3cret" && full.database == "authority")
        #expect(!full.description.contains("s3cret") && full.description.contains(":***@"))
        #expect(try PostgresLocation(full.connectionURL) == full)
        let plain = try PostgresLocation("postgresql://grid@127.0.0.1/authority")
        #expect(plain.port == 5432)
        for (text, says) in [
            ("mysql://grid@host/db", "not a postgres://"),
            ("postgres://grid@/db", "names no host"),
            ("postgres://host/db", "names no user"),
            ("postgres://grid@host", "names no database"),
            ("postgres://grid:pw@host/db?sslmode=require", "not supported"),
        ] {
            #expect(throws: PostgresLocationError.self) { try PostgresLocation(text) }
            do { _ = try PostgresLocation(text) } catch {
                #expect("\(error)".contains(says), "\(text): \(error)")
                #expect(!"\(error)".contains(":pw@"), "\(text): the password is hidden")
            }
        }
        // The command line says the same, and --fence-after needs a PostgreSQL store.
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", "d", "--store", "mysql://x@y/z"]) }
        #expect(throws: (any Error).self) { try ServeCommand.parse(["--data", "d", "--fence-after", "5"]) }
        #expect(throws: (any Error).self) {
            try ServeCommand.parse(["--data", "d", "--store", "postgres://g@h/d", "--fence-after", "0"])
        }
        let serve = try ServeCommand.parse(["--data", "d", "--store", "postgres://g@h/d", "--fence-after", "5"])
        #expect(serve.data.store?.host == "h" && serve.fenceAfter == 5)
        #expect(ServeCommand.helpMessage().contains("--store") && ServeCommand.helpMessage().contains("--fence-after"))
    }
}

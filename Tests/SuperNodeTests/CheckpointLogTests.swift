import Foundation
import GRDB
import GridAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNode
@testable import SuperNodeCore

/// The checkpoint log as a witness or client sees it: C2SP tlog-tiles over HTTP from a
/// running super node, its checkpoint a signed note by the key `GET /v1/root` names.
@Suite("Super node: checkpoint log (C2SP tlog-tiles)", .postgres)
struct CheckpointLogTests {
    let gateways = [TestKeys.key(0x99), TestKeys.key(0x9A)]

    /// A chain of one-entry blocks: the enrollment of a producer, then `readings` readings of it.
    static func chain(_ gateway: SigningIdentity, readings: Int) throws -> [Block] {
        var m = ChainMaker(gateway: gateway, maxEntries: 1)
        let p = m.producers[0]
        try m.gatewayRecord(.enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: m.time)))
        for i in 0..<readings { try m.reading(p, exportWh: Int64(i) * 10) }
        try m.flush()
        return m.blocks
    }

    /// Pushes both gateways' chains in interleaved slices, so the log's issue order is not
    /// the order of (gateway, height).
    static func pushInterleaved(
        _ h: NodeHarness,
        _ chains: [(SignedGatewayCertificate, [Block])],
        slice: Int
    ) async throws -> [String] {
        var issued: [String] = []
        var start = 0
        while chains.contains(where: { start < $0.1.count }) {
            for (cert, blocks) in chains where start < blocks.count {
                let pushed = try await h.push(cert, Array(blocks[start..<min(start + slice, blocks.count)]))
                #expect(pushed.status == 200, "\(pushed.response.rejected?.message ?? "")")
                issued += pushed.response.checkpoints.map(\.checkpoint)
            }
            start += slice
        }
        return issued
    }

    struct Fetched: Sendable {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
    }

    static func fetch(_ client: some TestClientProtocol, _ uri: String) async throws -> Fetched {
        try await client.execute(uri: uri, method: .get) { response in
            Fetched(
                status: Int(response.status.code),
                headers: response.headers,
                body: Array(buffer: response.body)
            )
        }
    }

    @Test(arguments: StoreKind.allCases) func aWitnessRebuildsTheTreeFromTheTilesAndProvesEveryCheckpointInIt(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        var chains: [(SignedGatewayCertificate, [Block])] = []
        for gateway in gateways {
            chains.append((try await h.certify(gateway), try Self.chain(gateway, readings: 140)))
        }
        let issued = try await Self.pushInterleaved(h, chains, slice: 50)
        let size = chains.map(\.1.count).reduce(0, +)
        #expect(issued.count == size)
        try #require(size > 256 && size < 512)
        let root = try await h.get("/v1/root", as: RootView.self)
        let key = try NoteKey(verifierKey: try #require(root.logVerifierKey))
        #expect(key.publicKey == h.rootKey)
        #expect(root.logOrigin == LogSigner.defaultOrigin(root: h.rootKey.id))

        try await h.app().test(.live) { client in
            let served = try await Self.fetch(client, "/checkpoint")
            #expect(served.status == 200)
            #expect(served.headers[.contentType] == "text/plain; charset=utf-8")
            #expect(served.headers[.cacheControl] == "no-store")
            let note = try SignedNote(parsing: served.body)
            try note.verify(by: key)
            let checkpoint = try LogCheckpoint(text: note.text)
            #expect(checkpoint.origin == root.logOrigin)
            #expect(checkpoint.size == UInt64(size))

            // Level 0: one full tile and a partial one; the entry bundles beside them.
            var tiles: [String: [Hash256]] = [:]
            var entries: [[UInt8]] = []
            for (index, path, width) in [(0, "000", 256), (1, "001.p/\(size - 256)", size - 256)] {
                let tile = try await Self.fetch(client, "/tile/0/\(path)")
                #expect(tile.status == 200)
                #expect(tile.headers[.contentType] == "application/octet-stream")
                #expect(tile.headers[.cacheControl] == "public, max-age=31536000, immutable")
                #expect(tile.body.count == 32 * width)
                tiles["0/\(index)"] = stride(from: 0, to: tile.body.count, by: 32).map {
                    Hash256(bytes: tile.body[$0..<$0 + 32])!
                }
                let bundle = try await Self.fetch(client, "/tile/entries/\(path)")
                #expect(bundle.status == 200)
                entries += try EntryBundle.decode(bundle.body)
            }
            // Level 1: the hash of the one full level-0 tile.
            let upper = try await Self.fetch(client, "/tile/1/000.p/1")
            #expect(upper.status == 200)
            #expect(upper.body == Merkle.root(leafHashes: try #require(tiles["0/0"])).bytes)
            tiles["1/0"] = [Hash256(bytes: upper.body)!]

            // The entries are the checkpoints, verbatim, in the order they were issued.
            #expect(entries.map { Data($0).base64EncodedString() } == issued)
            for entry in entries {
                #expect(try SignedCheckpoint(bytes: entry).isSignatureValid(by: h.rootKey))
            }
            let leaves = entries.map { Merkle.leafHash($0) }
            #expect(leaves == (tiles["0/0"] ?? []) + (tiles["0/1"] ?? []))
            #expect(Merkle.root(leafHashes: leaves) == checkpoint.rootHash)

            // An inclusion proof of each checkpoint, computed from the fetched tiles alone.
            let tree = TiledTree.tree(size: checkpoint.size) { level, index in
                guard let held = tiles["\(level)/\(index)"] else {
                    throw TiledTreeError.tileShort(level: level, index: index, held: 0)
                }
                return held
            }
            for (index, leaf) in leaves.enumerated() {
                let proof = try tree.inclusionProof(index: UInt64(index), treeSize: checkpoint.size)
                #expect(proof.verify(leafHash: leaf, root: checkpoint.rootHash), "entry \(index)")
            }
            #expect(try tree.root(treeSize: checkpoint.size) == checkpoint.rootHash)

            // Tiles beyond the tree are not found; a narrower partial tile is a prefix.
            for beyond in [
                "/tile/0/001", "/tile/0/001.p/\(size - 255)", "/tile/0/002.p/1", "/tile/1/000", "/tile/2/000.p/1",
                "/tile/entries/001", "/tile/entries/x001/000", "/tile/0/x018/x446/x744/x073/x709/x551/615",
            ] {
                let answer = try await Self.fetch(client, beyond)
                #expect(answer.status == 404, "\(beyond)")
                #expect(String(decoding: answer.body, as: UTF8.self).contains("not-found"), "\(beyond)")
            }
            let prefix = try await Self.fetch(client, "/tile/0/000.p/3")
            #expect(prefix.body == (tiles["0/0"] ?? []).prefix(3).flatMap(\.bytes))
        }
    }

    @Test(arguments: [
        "/tile/00/000", "/tile/64/000", "/tile/0/0000", "/tile/0/x000/001", "/tile/0/000.p/0", "/tile/0/000.p/256",
        "/tile/0/000.p/007", "/tile/0/x018/x446/x744/x073/x709/x551/616", "/tile/99999999999999999999999999/000",
        "/tile/0/000.p/99999999999999999999999999", "/tile/entries/abc", "/tile/0/x1/x2/x3/x4/x5/x6/x7/x8/x9/010",
        "/tile/-1/000", "/tile/0/001/002",
    ])
    func aMalformedTilePathIsABadRequestThatSaysWhy(_ path: String) async throws {
        let h = try await NodeHarness.make()
        try await h.app().test(.router) { client in
            let answer = try await Self.fetch(client, path)
            #expect(answer.status == 400, "\(path)")
            let rejection = try JSONDecoder().decode(RejectionView.self, from: Data(answer.body))
            #expect(rejection.reason == "malformed-request")
            #expect(rejection.message.contains("tile"))
        }
    }

    @Test(arguments: StoreKind.allCases) func anEmptyLogServesItsCheckpointOfSizeZeroAndNoTile(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        try await h.app().test(.router) { client in
            let note = try SignedNote(parsing: try await Self.fetch(client, "/checkpoint").body)
            try note.verify(by: try NoteKey(name: LogSigner.defaultOrigin(root: h.rootKey.id), publicKey: h.rootKey))
            let checkpoint = try LogCheckpoint(text: note.text)
            #expect(checkpoint.size == 0)
            #expect(checkpoint.rootHash == Merkle.emptyRoot)
            #expect(try await Self.fetch(client, "/tile/0/000.p/1").status == 404)
        }
    }

    @Test(arguments: StoreKind.allCases) func aChosenOriginNamesTheCheckpointAndItsKey(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let node = try await SuperNode.open(
            directory: h.dir,
            logger: quietLogger,
            clock: h.clock.function,
            logOrigin: "ledger.grid.test/super-node"
        )
        let app = Application(router: node.router(), logger: quietLogger)
        try await app.test(.router) { client in
            let root = try JSONDecoder().decode(
                RootView.self,
                from: Data(try await Self.fetch(client, "/v1/root").body)
            )
            #expect(root.logOrigin == "ledger.grid.test/super-node")
            let key = try NoteKey(verifierKey: try #require(root.logVerifierKey))
            #expect(key.name == "ledger.grid.test/super-node")
            let note = try SignedNote(parsing: try await Self.fetch(client, "/checkpoint").body)
            try note.verify(by: key)
            #expect(try LogCheckpoint(text: note.text).origin == "ledger.grid.test/super-node")
        }
    }

    @Test(arguments: ["", "grid test", "grid+test", "grid\u{0007}test"])
    func serveRefusesAnOriginThatCannotNameANoteKey(_ origin: String) {
        #expect(throws: (any Error).self) {
            try ServeCommand.parse(["--data", "/nonexistent", "--log-origin", origin])
        }
    }

    @Test func serveTakesAnOriginWithoutASchemeAndSaysSoInItsHelp() throws {
        _ = try ServeCommand.parse(["--data", "/nonexistent", "--log-origin", "ledger.grid.test:8090/super-node"])
        #expect(ServeCommand.helpMessage().contains("--log-origin"))
    }

    /// A store written before the log existed: opening it backfills the log with the
    /// checkpoints already issued, in issue order, to the same tree the log would have grown.
    @Test func aStoreFromBeforeTheLogIsBackfilledInIssueOrder() async throws {
        let h = try await NodeHarness.make()
        var chains: [(SignedGatewayCertificate, [Block])] = []
        for gateway in gateways { chains.append((try await h.certify(gateway), try Self.chain(gateway, readings: 20))) }
        let issued = try await Self.pushInterleaved(h, chains, slice: 5)
        let grown = try await h.node.store.read { db in try CheckpointLog.head(db) }
        #expect(grown.size == UInt64(issued.count))
        try await h.node.store.write { db in
            for table in ["log_entry", "log_tile", "log_head"] { try db.execute("DROP TABLE \(table)") }
            try db.execute("DELETE FROM grdb_migrations WHERE identifier = 'authority-v5-checkpoint-log'")
        }
        let reopened = try await h.reopen()
        let backfilled = try await reopened.node.store.read { db in try CheckpointLog.head(db) }
        #expect(backfilled == grown)
        let entries = try await reopened.node.store.read { db in
            try EntryBundle.decode(
                try #require(try CheckpointLog.resource(try TilePath(.entries, index: 0, width: issued.count), db))
            )
        }
        #expect(entries.map { Data($0).base64EncodedString() } == issued)
    }

    @Test(arguments: StoreKind.allCases) func aLogShorterThanTheCheckpointsIssuedIsReportedAtOpen(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateways[0])
        #expect(try await h.push(cert, try Self.chain(gateways[0], readings: 2)).status == 200)
        try await h.node.store.write { db in try db.execute("UPDATE log_head SET size = size - 1") }
        await #expect(throws: StoreDamage.self) { try await h.reopen() }
    }

    /// A foreign implementation (Python's cryptography, from Debian) verifies the served note
    /// by the verifier key string alone, and refuses it once a byte of its text changes.
    @Test(arguments: StoreKind.allCases) func pythonVerifiesTheServedNoteFromTheVerifierKeyString(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateways[0])
        #expect(try await h.push(cert, try Self.chain(gateways[0], readings: 3)).status == 200)
        let root = try await h.get("/v1/root", as: RootView.self)
        let note = try await h.app().test(.router) { client in try await Self.fetch(client, "/checkpoint").body }
        let head = try await h.node.store.read { db in try CheckpointLog.head(db) }
        let verified = try Self.python(verifierKey: try #require(root.logVerifierKey), note: note)
        #expect(verified.status == 0, "\(verified.errors)")
        #expect(head.size == 4)
        #expect(verified.output == "\(try #require(root.logOrigin)) 4 \(head.root.hex)\n")
        var altered = note
        altered[altered.firstIndex(of: UInt8(ascii: "\n"))! + 1] = UInt8(ascii: "9")
        let refused = try Self.python(verifierKey: try #require(root.logVerifierKey), note: altered)
        #expect(refused.status == 1)
        #expect(refused.errors.contains("does not verify"))
    }

    static func python(verifierKey: String, note: [UInt8]) throws -> ProcessRun {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = makeTempDir(prefix: "checkpoint-note")
        try Data(note).write(to: URL(fileURLWithPath: file))
        return try ProcessRun.run(
            executable: "/bin/sh",
            [
                "-c", "exec /usr/bin/python3 \"$0\" \"$1\" < \"$2\"", root.path + "/scripts/verify-checkpoint-note",
                verifierKey, file,
            ],
            timeout: .seconds(60)
        )
    }
}

import Foundation
import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

@Suite struct ChainStoreTests {
    /// A store at a fresh path holding the standard fixture chain.
    static func standardStore(_ dir: TempDir) throws -> (ChainStore, ChainFixture) {
        let fixture = try ChainFixture.standard()
        let store = try ChainStore(path: dir.file("chain.sqlite"))
        try fixture.write(to: store)
        return (store, fixture)
    }

    @Test func appendsAndLooksUp() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (store, f) = try Self.standardStore(dir)
        let last = try #require(f.blocks.last)
        #expect(try store.tip() == ChainTip(last.header))
        #expect(try store.blockCount() == UInt64(f.blocks.count))
        #expect(try store.entryCount() == last.header.header.treeSize)
        #expect(try store.block(atHeight: 2) == f.blocks[2])
        #expect(try store.block(hash: f.blocks[3].hash) == f.blocks[3])
        #expect(try store.block(atHeight: 999) == nil)
        #expect(try store.header(atHeight: 1) == f.blocks[1].header)

        let meter = f.consumers[1]
        let third = try #require(try store.reading(meter: meter.id, sequence: 3))
        guard case let .reading(r) = third.entry.record else {
            Issue.record("not a reading")
            return
        }
        #expect(r.meter == meter.id && r.sequence == 3)
        #expect(try store.entry(at: third.index) == third)
        #expect(f.blocks[Int(third.height)].entries.contains(third.entry))
        #expect(try store.reading(meter: meter.id, sequence: 99) == nil)

        let all = try store.readings(meter: meter.id, from: .min, until: .max)
        #expect(all.count == 6)
        let timestamps = all.compactMap { stored -> Int64? in
            if case let .reading(r) = stored.entry.record { return r.timestamp }
            return nil
        }
        #expect(timestamps == timestamps.sorted())
        let window = try store.readings(meter: meter.id, from: timestamps[1], until: timestamps[4])
        #expect(window.count == 3)

        let dispatches = try store.dispatches()
        #expect(dispatches.count == 6)
        let unserved = dispatches.filter {
            if case let .dispatch(d) = $0.entry.record { return d.outcome == .unserved }
            return false
        }
        #expect(unserved.count == 1)
        let ref = RequestReference(consumer: f.consumers[0].id, sequence: 1)
        let answer = try #require(try store.dispatch(for: ref))
        if case let .dispatch(d) = answer.entry.record {
            #expect(d.request == ref)
        } else {
            Issue.record("not a dispatch")
        }
        #expect(try store.anomalies().count == 1)
        #expect(try store.dispatches(fromIndex: dispatches[3].index).count == 3)
    }

    @Test func storesExactBytesAndSurvivesReopen() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f: ChainFixture
        do {
            let (_, fixture) = try Self.standardStore(dir)
            f = fixture
        }
        let reopened = try ChainStore(path: dir.file("chain.sqlite"), check: .full)
        for block in f.blocks {
            let stored = try #require(try reopened.block(atHeight: block.height))
            #expect(stored.header.bytes == block.header.bytes)
            #expect(stored.entries.map(\.bytes) == block.entries.map(\.bytes))
        }
    }

    @Test func refusesBlocksThatDoNotExtendTheTip() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f = try ChainFixture.standard()
        let store = try ChainStore(path: dir.file("c.sqlite"))
        #expect(throws: ChainStoreError.self) { try store.append(f.blocks[1]) }
        try store.append(f.blocks[0])
        #expect(throws: ChainStoreError.self) { try store.append(f.blocks[0]) }
        #expect(throws: ChainStoreError.self) { try store.append(f.blocks[2]) }
        try store.append(f.blocks[1])
        #expect(try store.blockCount() == 2)
    }

    /// A failure in the middle of writing a block's entries rolls the whole block back.
    @Test func failedAppendLeavesLastCommittedBlockIntact() throws {
        struct InjectedCrash: Error {}
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f = try ChainFixture.standard()
        let path = dir.file("c.sqlite")
        do {
            let store = try ChainStore(path: path)
            for block in f.blocks.prefix(3) { try store.append(block) }
        }
        do {
            let crashing = try ChainStore(
                path: path,
                check: .full,
                afterEntryInsert: { position in
                    if position == 4 { throw InjectedCrash() }
                }
            )
            #expect(throws: InjectedCrash.self) { try crashing.append(f.blocks[3]) }
        }
        let store = try ChainStore(path: path, check: .full)
        #expect(try store.tip() == ChainTip(f.blocks[2].header))
        #expect(try store.entryCount() == f.blocks[2].header.header.treeSize)
        #expect(try store.block(atHeight: 3) == nil)
        try store.append(f.blocks[3])
        #expect(try store.blockCount() == 4)
    }

    // MARK: start-up check

    /// Opens the standard store, tampers with it through SQL, and returns what opening
    /// it again throws.
    static func openAfterTampering(
        check: ChainStore.StoreCheck = .full,
        _ sql: (ChainFixture) throws -> String
    ) throws -> (any Error)? {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (store, f) = try standardStore(dir)
        try store.executeRawSQLForTesting(try sql(f))
        do {
            _ = try ChainStore(path: dir.file("chain.sqlite"), check: check)
            return nil
        } catch {
            return error
        }
    }

    @Test func startupDetectsAnEditedEntryByte() throws {
        // Flip the last byte of entry 25's stored envelope (inside its signature).
        let sql = "UPDATE entry SET bytes = substr(bytes, 1, length(bytes) - 1) || X'00' WHERE idx = 25"
        let error = try Self.openAfterTampering { _ in sql }
        let height = try ChainFixture.standard().blocks.firstIndex { $0.header.header.treeSize > 25 } ?? -1
        #expect(error as? ChainStoreError == .merkleRootMismatch(height: UInt64(height)))
        #expect(
            String(describing: error ?? ChainStoreError.orphanEntries(count: 0, firstIndex: 0)).contains("Merkle root")
        )
        // The structure-only check does not hash entries, so it passes.
        #expect(try Self.openAfterTampering(check: .structure, { _ in sql }) == nil)
    }

    /// A store written before the lean rows (signer column, entries indexed by height,
    /// readings keyed by meter id) is rewritten on open and answers every look-up as before.
    @Test func aStoreWithTheEarlierRowsIsRewrittenOnce() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let f = try ChainFixture.trading()
        let path = dir.file("chain.sqlite")
        var readings: [MeterID: [StoredEntry]] = [:]
        var dispatches: [StoredEntry] = []
        do {
            let store = try ChainStore(path: path)
            try f.write(to: store)
            for block in f.blocks {
                for case let .reading(r) in block.entries.map(\.record) {
                    readings[r.meter] = try store.readings(meter: r.meter, from: .min, until: .max)
                }
            }
            dispatches = try store.dispatches(fromIndex: 0, limit: 1000)
            // Back to the rows of the releases before: the migration is to run again.
            try store.executeRawSQLForTesting(
                """
                CREATE TABLE entry_old (idx INTEGER PRIMARY KEY, height INTEGER NOT NULL, type INTEGER NOT NULL,
                    signer BLOB NOT NULL, bytes BLOB NOT NULL);
                INSERT INTO entry_old SELECT idx, height, type, substr(bytes, 3, 16), bytes FROM entry;
                DROP TABLE entry;
                ALTER TABLE entry_old RENAME TO entry;
                CREATE INDEX entry_by_height ON entry(height, idx);
                CREATE INDEX entry_by_type ON entry(type, idx);
                CREATE TABLE reading_old (meter BLOB NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
                    idx INTEGER NOT NULL, PRIMARY KEY (meter, seq)) WITHOUT ROWID;
                INSERT INTO reading_old SELECT m.id, r.seq, r.ts, r.idx FROM reading r JOIN meter m ON m.no = r.meter_no;
                DROP TABLE reading;
                DROP TABLE meter;
                ALTER TABLE reading_old RENAME TO reading;
                CREATE INDEX reading_by_time ON reading(meter, ts);
                DELETE FROM grdb_migrations WHERE identifier = 'lean-rows-v1';
                """
            )
        }
        #expect(!readings.isEmpty && !dispatches.isEmpty)
        let reopened = try ChainStore(path: path, check: .full)
        for (meter, stored) in readings {
            #expect(try reopened.readings(meter: meter, from: .min, until: .max) == stored)
            #expect(try reopened.latestReading(meter: meter) == stored.last)
        }
        #expect(try reopened.dispatches(fromIndex: 0, limit: 1000) == dispatches)
        for stored in dispatches {
            guard case let .dispatch(d) = stored.entry.record else { continue }
            #expect(try reopened.request(d.request, before: stored.index) != nil, "the request of \(d.request)")
        }
        for block in f.blocks {
            #expect(try reopened.block(atHeight: block.header.header.height) == block)
        }
        // New blocks append to the rewritten rows.
        #expect(try reopened.entryCount() == f.blocks.last?.header.header.treeSize)
    }

    @Test func startupDetectsADeletedEntry() throws {
        let error = try Self.openAfterTampering { _ in "DELETE FROM entry WHERE idx = 25" }
        #expect(error as? ChainStoreError == .entryIndexMismatch(height: 2, expected: 25, found: 26))
        let last = try Self.openAfterTampering { f in
            "DELETE FROM entry WHERE idx = \(f.blocks[1].header.header.treeSize - 1)"
        }
        #expect(last as? ChainStoreError == .entryCountMismatch(height: 1, header: 10, stored: 9))
    }

    @Test func startupDetectsSwappedBlocks() throws {
        let error = try Self.openAfterTampering { _ in
            """
            UPDATE block SET height = -1 WHERE height = 2;
            UPDATE block SET height = 2 WHERE height = 3;
            UPDATE block SET height = 3 WHERE height = -1;
            """
        }
        #expect(error as? ChainStoreError == .headerHeightMismatch(row: 2, header: 3))
    }

    @Test func startupDetectsMissingAndTornBlocks() throws {
        let missing = try Self.openAfterTampering { _ in "DELETE FROM block WHERE height = 1" }
        #expect(missing as? ChainStoreError == .missingBlock(height: 1, nextStored: 2))
        let torn = try Self.openAfterTampering { f in "DELETE FROM block WHERE height = \(f.blocks.count - 1)" }
        #expect((torn as? ChainStoreError).map { if case .orphanEntries = $0 { true } else { false } } == true)
        let hash = try Self.openAfterTampering { _ in "UPDATE block SET hash = zeroblob(32) WHERE height = 4" }
        #expect(hash as? ChainStoreError == .storedHashMismatch(height: 4))
        let header = try Self.openAfterTampering { _ in
            "UPDATE block SET signed_header = substr(signed_header, 1, 100) WHERE height = 0"
        }
        #expect(
            (header as? ChainStoreError).map { if case .undecodableHeader(0, _) = $0 { true } else { false } } == true
        )
    }

    // MARK: kill -9

    static let childEnvironmentKey = "LEDGERLITE_KILL_TEST_DB"

    /// In a normal run this does nothing. When the kill test starts this test binary as a
    /// child with `LEDGERLITE_KILL_TEST_DB` set, it appends blocks to that store forever
    /// until it is killed.
    @Test func killChildAppendLoop() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childEnvironmentKey] else { return }
        let store = try ChainStore(path: path, check: .structure)
        let gateway = TestKeys.gateway
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 200, maxAgeMilliseconds: .max))
        var seq: UInt64 = 0
        var time = TestKeys.baseTime
        _ = try builder.addGatewayRecord(
            .enrollment(Enrollment(meterKey: TestKeys.meter.publicIdentity, role: .consumer, timestamp: time)),
            at: time
        )
        while true {
            seq += 1
            time += 1
            let reading = TestKeys.meter.signed(
                .reading(
                    try Reading(
                        meter: TestKeys.meter.id,
                        sequence: seq,
                        timestamp: time,
                        values: [MeasuredValue(.energyImportWh, Int64(seq))]
                    )
                )
            )
            if let block = try builder.add(reading, at: time) {
                try store.append(block)
                // Tell the parent how many blocks are committed without it opening the
                // store (opening runs migrations, which could race with ours).
                try Data("\(block.height + 1)".utf8).write(
                    to: URL(fileURLWithPath: path + ".committed"),
                    options: .atomic
                )
            }
        }
    }

    /// Starts this test binary as a child that appends blocks in a loop, kills it with
    /// SIGKILL at varying moments, and checks that the store always opens cleanly (full
    /// check and verifier) with every committed block intact.
    @Test func killDashNineMidAppendLeavesACleanStore() async throws {
        #if os(Linux)
        // A child started by this test must not start children of its own.
        guard ProcessInfo.processInfo.environment[Self.childEnvironmentKey] == nil else { return }
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("killed.sqlite")
        var rng = SplitMix64(seed: 9)
        var lastHeight: UInt64? = nil
        for _ in 0..<3 {
            var environment = ProcessInfo.processInfo.environment
            environment[Self.childEnvironmentKey] = path
            // Each round starts from an empty store (the child builds its chain from height 0).
            for suffix in ["", "-wal", "-shm", ".committed"] where FileManager.default.fileExists(atPath: path + suffix)
            {
                try FileManager.default.removeItem(atPath: path + suffix)
            }
            let child = try SpawnedProcess(
                CommandLine.arguments[0],
                ["--testing-library", "swift-testing", "--filter", "killChildAppendLoop"],
                environment: environment
            )
            // Wait (without asserting on time) until a few blocks are committed, then kill
            // at a random moment while the child keeps appending.
            let deadline = Date().addingTimeInterval(120)
            var committed: UInt64 = 0
            while committed < 3 && Date() < deadline && child.isRunning {
                try await Task.sleep(for: .milliseconds(50))
                // absent until the first block
                if let text = try? String(contentsOfFile: path + ".committed", encoding: .utf8) {
                    committed = UInt64(text) ?? 0
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...200, using: &rng)))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(
                child.endedBySignal,
                "the child stopped on its own; is the test binary runnable?"
            )
            #expect(committed >= 3, "the child committed \(committed) blocks before the deadline")

            let store = try ChainStore(path: path, check: .full)
            let verified = try ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity).verify(store)
            #expect(verified.blockCount >= committed)
            lastHeight = verified.tip?.height
        }
        #expect(lastHeight != nil)
        #endif
    }
}

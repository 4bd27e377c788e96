import Foundation
import GRDB
import GridAPI
import TestSupport
import Testing

@testable import LedgerLite
@testable import OperatorKit
@testable import SuperNode
@testable import SuperNodeCore

@Suite("Super node: value verification, suspension, reinstate", .postgres)
struct ValueTests {
    let gateway = TestKeys.key(0x99)

    func gatewayView(_ h: NodeHarness) async throws -> GatewayView {
        try #require(
            try await h.get("/v1/gateways", as: GatewayListView.self).gateways.first { $0.gateway == gateway.id.hex }
        )
    }

    func expectError(_ contains: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected an error containing '\(contains)'")
        } catch {
            #expect("\(error)".contains(contains), "\(error)")
        }
    }

    @Test(arguments: StoreKind.allCases) func dispatchBeyondMeteredExportIsFlaggedWithTheNumbers(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.inflating(gateway: gateway)
        #expect(chain.blocks.count == 5)
        let producer = chain.producers[0].id.hex

        // Blocks 0–1: the chain verifies (its own policy credits the offer), block 1 is flagged.
        let first = try await h.push(cert, Array(chain.blocks[0...1]))
        #expect(first.status == 200)
        #expect(first.response.rejected == nil)
        #expect(first.response.checkpoints.count == 2)
        #expect(first.response.flags.count == 1)
        let flag = try #require(first.response.flags.first)
        #expect(flag.gateway == gateway.id.hex)
        #expect(flag.height == 1)
        #expect(flag.producer == producer)
        #expect(flag.dispatchedWh == 3000)
        #expect(flag.exportedWh == 1000)
        #expect(flag.toleranceWh == 0)
        #expect(flag.chainToleranceWh == 10_000)
        #expect(flag.flaggedAt == h.clock.now)

        // Blocks 0–1 replayed raise nothing again; block 2 is flagged with the cumulative figures.
        h.clock.advance(ms: 1000)
        let second = try await h.push(cert, Array(chain.blocks[0...2]))
        #expect(second.status == 200)
        #expect(second.response.checkpoints.map(\.replayed) == [true, true, false])
        #expect(second.response.flags.map(\.height) == [2])
        #expect(second.response.flags.first?.dispatchedWh == 4000)
        #expect(second.response.flags.first?.exportedWh == 1000)

        let listed = try await h.get("/v1/flags?gateway=\(gateway.id.hex)", as: ValueFlagListView.self)
        #expect(listed.flags == first.response.flags + second.response.flags)
        #expect(try await h.get("/v1/flags", as: ValueFlagListView.self).flags.count == 2)
        let view = try await gatewayView(h)
        #expect(view.valueFlags == 2)
        #expect(view.valueFlagsTotal == 2)
        #expect(view.suspended == false)
        #expect(view.suspendedAt == nil)
        #expect(view.revoked == false)
        #expect(view.auditedHeight == 2)

        // Bad and unknown gateway ids.
        #expect(
            try await h.get("/v1/flags?gateway=xyz", as: RejectionView.self, status: 400).reason == "malformed-request"
        )
        #expect(
            try await h.get("/v1/flags?gateway=\(TestKeys.key(0x55).id.hex)", as: RejectionView.self, status: 404)
                .reason == "not-found"
        )
    }

    @Test(arguments: StoreKind.allCases) func splitDispatchFlagsEachShareProducerAndCountsTheBlockOnce(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = ChainMaker(gateway: gateway, maxEntries: 100)
        try chain.gatewayRecord(
            .enrollment(Enrollment(meterKey: chain.consumer.publicIdentity, role: .consumer, timestamp: chain.time))
        )
        for p in chain.producers {
            try chain.gatewayRecord(
                .enrollment(Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: chain.time))
            )
        }
        try chain.policy(.splitTNT, offerToleranceWh: 10_000)
        for p in chain.producers {
            try chain.reading(p, exportWh: 100)
            try chain.reading(p, exportWh: 600)  // exported 500 Wh each
            try chain.offer(p, 2000)  // credited in full under the chain's tolerance
        }
        try chain.request(3000)  // no producer covers it alone: split over both
        try chain.flush()
        let dispatches = chain.blocks.flatMap(\.entries).compactMap { entry -> Dispatch? in
            if case let .dispatch(d) = entry.record { return d } else { return nil }
        }
        #expect(dispatches.first?.outcome.shares.count == 2)

        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 200)
        #expect(Set(pushed.response.flags.map(\.producer)) == Set(chain.producers.map(\.id.hex)))
        #expect(pushed.response.flags.allSatisfy { $0.exportedWh == 500 && $0.dispatchedWh > 500 })
        #expect(pushed.response.flags.map(\.dispatchedWh).reduce(0, +) == 3000)
        let view = try await gatewayView(h)
        #expect(view.valueFlags == 1)
        #expect(view.valueFlagsTotal == 1)
    }

    @Test(arguments: StoreKind.allCases) func honestChainIsNeverFlagged(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        var chain = try ChainMaker.standard(gateway: gateway)
        try chain.more()
        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 200)
        #expect(pushed.response.flags.isEmpty)
        #expect(try await h.get("/v1/flags", as: ValueFlagListView.self).flags.isEmpty)
        let view = try await gatewayView(h)
        #expect(view.valueFlags == 0)
        #expect(view.valueFlagsTotal == 0)
        #expect(view.suspended == false)
    }

    @Test(arguments: StoreKind.allCases) func thirdFlaggedBlockSuspendsUntilReinstated(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway, name: "feeder-7")
        let chain = try ChainMaker.inflating(gateway: gateway)

        // Blocks 0–3: three flagged blocks; the third is still accepted and suspends.
        let pushed = try await h.push(cert, Array(chain.blocks[0...3]))
        #expect(pushed.status == 200)
        #expect(pushed.response.checkpoints.count == 4)
        #expect(pushed.response.flags.map(\.height) == [1, 2, 3])
        #expect(pushed.response.flags.map(\.dispatchedWh) == [3000, 4000, 4500])
        let suspendedAt = h.clock.now
        var view = try await gatewayView(h)
        #expect(view.suspended == true)
        #expect(view.suspendedAt == suspendedAt)
        #expect(view.valueFlags == 3)
        #expect(view.auditedHeight == 3)

        // The next push is refused before any block, even a replay.
        h.clock.advance(ms: 60_000)
        let refused = try await h.push(cert, [chain.blocks[4]])
        #expect(refused.status == 403)
        #expect(refused.reasons == "suspended-certificate")
        #expect(refused.response.checkpoints.isEmpty)
        let message = try #require(refused.response.rejected?.message)
        #expect(message.contains("super-node reinstate --data DIR --gateway \(gateway.id.hex)"))
        #expect(message.contains("after 3 value-flagged blocks"))
        #expect(message.contains(Timestamps.iso(suspendedAt)))
        #expect(try await h.push(cert, [chain.blocks[0]]).reasons == "suspended-certificate")
        // The check other endpoints reuse refuses it too.
        await expectError("suspended since") {
            _ = try await h.node.store.read { db in try h.node.checkCertificate(cert.bytes, db) }
        }

        // Reinstate: the count starts again, the flags stay, the audit continues.
        let done = try await Authority.reinstate(
            store: h.node.store,
            gateway: gateway.id,
            note: "meter firmware fixed",
            now: h.clock.now
        )
        #expect(done.suspension.flagCount == 3)
        #expect(done.suspension.height == 3)
        #expect(done.suspension.reinstatedHeight == 3)
        #expect(done.flagsOnRecord == 3)
        #expect(done.certificate.name == "feeder-7")
        await expectError("is not suspended (0 value-flagged blocks") {
            _ = try await Authority.reinstate(store: h.node.store, gateway: gateway.id, note: nil, now: h.clock.now)
        }
        await expectError("holds no certificate") {
            _ = try await Authority.reinstate(
                store: h.node.store,
                gateway: TestKeys.key(0x55).id,
                note: nil,
                now: h.clock.now
            )
        }
        let next = try await h.push(cert, [chain.blocks[4]])
        #expect(next.status == 200)
        #expect(next.response.flags.isEmpty)
        view = try await gatewayView(h)
        #expect(view.suspended == false)
        #expect(view.suspendedAt == nil)
        #expect(view.valueFlags == 0)
        #expect(view.valueFlagsTotal == 3)
        #expect(view.auditedHeight == 4)
        #expect(try await h.get("/v1/flags?gateway=\(gateway.id.hex)", as: ValueFlagListView.self).flags.count == 3)
        let history = try await h.node.store.read { db in try AuthorityStore.suspensions(db, gateway: gateway.id) }
        #expect(history.count == 1)
        #expect(history.first?.note == "meter firmware fixed")
        #expect(history.first?.reinstatedAt == h.clock.now)
    }

    @Test(arguments: StoreKind.allCases) func suspensionMidPushRefusesTheRestAndSurvivesARestart(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.inflating(gateway: gateway)

        // All five blocks in one push: block 3 suspends, block 4 is refused.
        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 403)
        #expect(pushed.response.checkpoints.count == 4)
        #expect(pushed.response.flags.count == 3)
        #expect(pushed.reasons == "suspended-certificate")
        #expect(pushed.response.rejected?.index == 4)

        // After a restart: still suspended (the log says so at start), the flags and counts read back.
        let logs = LogCapture()
        let restarted = try await h.reopen(logger: logs.logger)
        #expect(
            logs.all.contains {
                $0.contains("gateway suspended by the value verification") && $0.contains(gateway.id.hex)
                    && $0.contains("value.flagged_blocks=3")
            },
            "\(logs.all)"
        )
        var view = try await gatewayView(restarted)
        #expect(view.suspended == true)
        #expect(view.valueFlags == 3)
        #expect(view.valueFlagsTotal == 3)
        #expect(
            try await restarted.get("/v1/flags?gateway=\(gateway.id.hex)", as: ValueFlagListView.self).flags
                == pushed.response.flags
        )
        #expect(try await restarted.push(cert, [chain.blocks[4]]).reasons == "suspended-certificate")

        // `super-node reinstate` on the directory while the node runs: effective at once.
        try await ReinstateCommand.parse(
            h.dataArguments + ["--gateway", gateway.id.hex, "--note", "inspected on site"]
        ).run()
        let next = try await restarted.push(cert, [chain.blocks[4]])
        #expect(next.status == 200)
        #expect(next.response.checkpoints.first?.height == 4)

        // And after another restart: not suspended, no replayed block flagged again.
        let logs2 = LogCapture()
        let again = try await restarted.reopen(logger: logs2.logger)
        #expect(!logs2.all.contains { $0.contains("gateway suspended") })
        view = try await gatewayView(again)
        #expect(view.suspended == false)
        #expect(view.valueFlags == 0)
        #expect(view.valueFlagsTotal == 3)
        let replay = try await again.push(cert, chain.blocks)
        #expect(replay.status == 200)
        #expect(replay.response.flags.isEmpty)
        #expect(replay.response.checkpoints.allSatisfy { $0.replayed == true })
        let history = try await again.node.store.read { db in
            try AuthorityStore.suspensions(db, gateway: gateway.id)
        }
        #expect(history.first?.note == "inspected on site")
    }

    @Test(arguments: StoreKind.allCases) func valueToleranceRaisesTheBarAndSuspendAfterIsTheNodes(
        store: StoreKind
    ) async throws {
        let h = try await NodeHarness.make(store: store, value: ValuePolicy(toleranceWh: 2500, suspendAfter: 3))
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.inflating(gateway: gateway)
        let pushed = try await h.push(cert, chain.blocks)
        #expect(pushed.status == 200)
        // 3,000 ≤ 1,000 + 2,500 is within the tolerance; 4,000 and 4,500 are not.
        #expect(pushed.response.flags.map(\.height) == [2, 3])
        #expect(pushed.response.flags.allSatisfy { $0.toleranceWh == 2500 })
        #expect(try await gatewayView(h).suspended == false)

        // A node suspending after one flagged block.
        let strict = try await NodeHarness.make(store: store, value: ValuePolicy(toleranceWh: 0, suspendAfter: 1))
        let strictCert = try await strict.certify(gateway)
        let first = try await strict.push(strictCert, Array(chain.blocks[0...1]))
        #expect(first.status == 200)
        #expect(first.response.flags.count == 1)
        #expect(try await strict.push(strictCert, [chain.blocks[2]]).reasons == "suspended-certificate")
    }

    @Test(arguments: StoreKind.allCases) func reinstateCommandParsingAndErrors(store: StoreKind) async throws {
        let h = try await NodeHarness.make(store: store)
        _ = try await h.certify(gateway)
        let data = h.dataArguments
        #expect(throws: (any Error).self) { try ReinstateCommand.parse(data) }
        #expect(throws: (any Error).self) { try ReinstateCommand.parse(data + ["--gateway", "xyz"]) }
        #expect(throws: (any Error).self) {
            try ReinstateCommand.parse(data + ["--gateway", gateway.id.hex, "--note", "two\nlines"])
        }
        let parsed = try ReinstateCommand.parse(data + ["--gateway", gateway.id.hex, "--note", "ok"])
        #expect(parsed.note == "ok")
        await expectError("holds no certificate") {
            try await ReinstateCommand.parse(data + ["--gateway", TestKeys.key(0x55).id.hex]).run()
        }
        await expectError("is not suspended") {
            try await ReinstateCommand.parse(data + ["--gateway", gateway.id.hex]).run()
        }
        await expectError("run `super-node init --data") {
            try await ReinstateCommand.parse(["--data", makeTempDir(), "--gateway", gateway.id.hex]).run()
        }

        // serve's value flags.
        #expect(throws: (any Error).self) { try ServeCommand.parse(data + ["--suspend-after", "0"]) }
        #expect(throws: (any Error).self) { try ServeCommand.parse(data + ["--value-tolerance-wh", "-1"]) }
        let serve = try ServeCommand.parse(data + ["--value-tolerance-wh", "250", "--suspend-after", "5"])
        #expect(serve.valuePolicy == ValuePolicy(toleranceWh: 250, suspendAfter: 5))
        #expect(try ServeCommand.parse(data).valuePolicy == .standard)
        #expect(SuperNodeCommand.helpMessage().contains("reinstate"))
        #expect(ReinstateCommand.helpMessage().contains("--note"))
        #expect(ServeCommand.helpMessage().contains("--value-tolerance-wh"))
        #expect(ServeCommand.helpMessage().contains("--suspend-after"))
    }
}

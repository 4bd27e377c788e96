import Foundation
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

@Suite struct VerifierTests {
    let verifier = ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity)

    /// Re-seals `entries` into blocks of `maxEntries` with the gateway key, accepting
    /// anything: what a dishonest gateway with its own key could publish.
    static func reseal(_ entries: [SignedRecord], maxEntries: Int = 10) throws -> [Block] {
        var builder = BlockBuilder(
            gateway: TestKeys.gateway,
            policy: SealPolicy(maxEntries: maxEntries, maxAgeMilliseconds: .max)
        )
        builder.forging = true
        var blocks: [Block] = []
        var time = TestKeys.baseTime
        for entry in entries {
            time += 1000
            if let block = try builder.add(entry, at: time) { blocks.append(block) }
        }
        if let block = try builder.seal(at: time) { blocks.append(block) }
        return blocks
    }

    static func flatten(_ blocks: [Block]) -> [SignedRecord] { blocks.flatMap(\.entries) }

    func failure(_ body: () throws -> VerifiedChain) -> VerificationFailure? {
        do {
            _ = try body()
            return nil
        } catch let failure as VerificationFailure {
            return failure
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    func storeFailure(_ blocks: [Block], tamper sql: String? = nil) throws -> VerificationFailure? {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try ChainStore(path: dir.file("c.sqlite"))
        for block in blocks { try store.append(block) }
        if let sql { try store.executeRawSQLForTesting(sql) }
        let reopened = try ChainStore(path: dir.file("c.sqlite"), check: .none)
        return failure { try verifier.verify(reopened) }
    }

    @Test func honestChainVerifiesFromBlocksAndStore() throws {
        let f = try ChainFixture.standard()
        let fromBlocks = try verifier.verify(blocks: f.blocks)
        #expect(fromBlocks.blockCount == UInt64(f.blocks.count))
        #expect(fromBlocks.tip == f.builder.tip)
        #expect(fromBlocks.state.tnt.digest() == f.builder.state.tnt.digest())
        #expect(fromBlocks.tree.root == f.builder.tree.root)
        #expect(try storeFailure(f.blocks) == nil)
        let single = ChainVerifier(gatewayKey: TestKeys.gateway.publicIdentity, concurrency: 1)
        #expect(try single.verify(blocks: f.blocks).tree.root == fromBlocks.tree.root)
        #expect(try verifier.verify(blocks: [Block]()).blockCount == 0)
    }

    @Test func wrongGatewayKeyIsNamed() throws {
        let f = try ChainFixture.standard()
        let other = ChainVerifier(gatewayKey: TestKeys.producer.publicIdentity)
        let fail = failure { try other.verify(blocks: f.blocks) }
        #expect(
            fail == VerificationFailure(height: 0, entryIndex: nil, problem: .wrongGateway(found: TestKeys.gateway.id))
        )
    }

    @Test func forgedHeaderSignatureIsNamed() throws {
        let f = try ChainFixture.standard()
        var blocks = f.blocks
        var bytes = blocks[1].header.bytes
        bytes[bytes.count - 1] ^= 1
        blocks[1] = Block(header: try SignedBlockHeader(bytes: bytes), entries: blocks[1].entries)
        #expect(
            failure { try verifier.verify(blocks: blocks) }
                == VerificationFailure(height: 1, entryIndex: nil, problem: .badBlockSignature)
        )
    }

    // MARK: the issue's tamper cases

    /// One byte of a stored reading changed directly in SQLite.
    @Test func tamperedReadingByteIsNamed() throws {
        let f = try ChainFixture.standard()
        let (height, offset, index) = try #require(
            Self.locate(f.blocks, nth: 7) { if case .reading = $0.record { true } else { false } }
        )
        let entry = f.blocks[height].entries[offset]
        // Change the first energy value's last byte: body offset 37 + 2 + 7, envelope header 22.
        let position = 22 + 37 + 9
        var bytes = entry.bytes
        bytes[position] ^= 0x01
        let sql = "UPDATE entry SET bytes = X'\(encodeHex(bytes))' WHERE idx = \(index)"
        let fail = try #require(try storeFailure(f.blocks, tamper: sql))
        #expect(
            fail
                == VerificationFailure(
                    height: UInt64(height),
                    entryIndex: index,
                    problem: .badSignature(signer: entry.signer, type: .reading)
                )
        )
        #expect(fail.description.contains("block \(height), entry \(index)"))
        #expect(fail.description.contains("signature does not verify"))
    }

    /// A reading deleted from the store, and a reading left out by a gateway that re-sealed
    /// the chain around the gap.
    @Test func deletedReadingIsNamed() throws {
        let f = try ChainFixture.standard()
        let (height, _, index) = try #require(
            Self.locate(f.blocks, nth: 12) { if case .reading = $0.record { true } else { false } }
        )
        let fromStore = try #require(try storeFailure(f.blocks, tamper: "DELETE FROM entry WHERE idx = \(index)"))
        #expect(fromStore.height == UInt64(height))
        #expect(fromStore.entryIndex == index)
        #expect(
            fromStore.description.contains("entry \(index) is missing")
                || fromStore.description.contains("entries deleted")
        )

        var entries = Self.flatten(f.blocks)
        let removed = entries.remove(at: Int(index))
        guard case let .reading(gone) = removed.record else {
            Issue.record("not a reading")
            return
        }
        let resealed = try Self.reseal(entries)
        let fail = try #require(failure { try verifier.verify(blocks: resealed) })
        let next = try #require(
            entries.firstIndex {
                if case let .reading(r) = $0.record {
                    r.meter == gone.meter && r.sequence == gone.sequence + 1
                } else {
                    false
                }
            }
        )
        #expect(fail.entryIndex == UInt64(next))
        #expect(
            fail.problem == .ruleViolation(.sequenceGap(gone.meter, expected: gone.sequence, found: gone.sequence + 1))
        )
        #expect(fail.description.contains("missing"))
    }

    /// The auditor checks one block at a time exactly as the verifier checks a whole chain,
    /// and a refused block leaves it as it was.
    @Test func auditorContinuesBlockByBlock() throws {
        let f = try ChainFixture.standard()
        var auditor = ChainAuditor(gatewayKey: TestKeys.gateway.publicIdentity)
        #expect(auditor.nextHeight == 0)
        for (i, block) in f.blocks.enumerated() {
            if i == 1 {
                // A tampered copy of block 1 (one entry's signature byte) is refused…
                var entries = block.entries
                var bytes = entries[0].bytes
                bytes[bytes.count - 1] ^= 1
                entries[0] = try SignedRecord(bytes: bytes)
                let bad = Block(header: block.header, entries: entries)
                #expect(throws: VerificationFailure.self) { try auditor.append(bad) }
                // …and so is block 2 before block 1.
                #expect(throws: VerificationFailure.self) { try auditor.append(f.blocks[2]) }
                #expect(auditor.nextHeight == 1)
            }
            try auditor.append(block)
        }
        let whole = try verifier.verify(blocks: f.blocks)
        #expect(auditor.tip == whole.tip)
        #expect(auditor.verified.state.tnt.digest() == whole.state.tnt.digest())
        #expect(auditor.verified.tree.root == whole.tree.root)
    }

    /// Two blocks swapped in the store.
    @Test func swappedBlocksAreNamed() throws {
        let f = try ChainFixture.standard()
        let sql = """
            UPDATE block SET height = -1 WHERE height = 2;
            UPDATE entry SET height = -1 WHERE height = 2;
            UPDATE block SET height = 2 WHERE height = 3;
            UPDATE entry SET height = 2 WHERE height = 3;
            UPDATE block SET height = 3 WHERE height = -1;
            UPDATE entry SET height = 3 WHERE height = -1;
            """
        let fail = try #require(try storeFailure(f.blocks, tamper: sql))
        #expect(fail == VerificationFailure(height: 2, entryIndex: nil, problem: .heightMismatch(header: 3)))
        // Swapped in a list of blocks handed over directly, too.
        var blocks = f.blocks
        blocks.swapAt(2, 3)
        #expect(
            failure { try verifier.verify(blocks: blocks) }
                == VerificationFailure(height: 2, entryIndex: nil, problem: .heightMismatch(header: 3))
        )
    }

    /// A dispatch rewritten to an unfair producer, re-signed by the gateway and re-sealed:
    /// signatures, links and roots are all valid, and only the TNT replay catches it.
    @Test func unfairDispatchIsNamedByReplay() throws {
        let f = try ChainFixture.standard()
        var entries = Self.flatten(f.blocks)
        // Replay up to the first served dispatch to learn the state before it.
        var state = ChainState(gatewayKey: TestKeys.gateway.publicIdentity)
        var target: (index: Int, dispatch: Dispatch, fair: MeterID, producerTNT: UInt64)?
        for (i, entry) in entries.enumerated() {
            if case let .dispatch(d) = entry.record, case let .served(fair, amount, _) = d.outcome {
                let unfair = try #require(
                    f.producers.map(\.id).first { id in
                        id != fair && (state.tnt.status(of: id)?.availableWh ?? 0) >= amount
                    }
                )
                target = (i, d, unfair, state.tnt.status(of: unfair)?.tnt ?? 0)
                break
            }
            try state.apply(entry)
        }
        let (index, original, unfair, unfairTNT) = try #require(target)
        guard case let .served(fair, amount, fairTNT) = original.outcome else { return }
        let rewritten = try Dispatch(
            request: original.request,
            outcome: .served(producer: unfair, energyWh: amount, producerTNTBefore: unfairTNT)
        )
        entries[index] = TestKeys.gateway.signed(.dispatch(rewritten))
        let resealed = try Self.reseal(entries)
        // Every block is signed by the gateway and hashes correctly…
        for block in resealed { #expect(block.header.isSignatureValid(by: TestKeys.gateway.publicIdentity)) }
        // …but the replay names the dispatch.
        let expected = VerificationFailure(
            height: UInt64(index / 10),
            entryIndex: UInt64(index),
            problem: .ruleViolation(
                .tnt(
                    .dispatchMismatch(
                        original.request,
                        expected: .served(producer: fair, energyWh: amount, producerTNTBefore: fairTNT),
                        recorded: rewritten.outcome
                    )
                )
            )
        )
        #expect(failure { try verifier.verify(blocks: resealed) } == expected)
        let fromStore = try storeFailure(resealed)
        #expect(fromStore == expected)
        #expect(fromStore?.description.contains("TNT rule gives") == true)
    }

    /// The first dispatch in `entries` matching `predicate`, with its index.
    static func firstDispatch(_ entries: [SignedRecord], _ predicate: (Dispatch) -> Bool) -> (Int, Dispatch)? {
        for (i, entry) in entries.enumerated() {
            if case let .dispatch(d) = entry.record, predicate(d) { return (i, d) }
        }
        return nil
    }

    /// A split dispatch whose shares were rewritten (same total, other amounts), re-signed
    /// and re-sealed: only the replay of the split rule catches it.
    @Test func splitDispatchWithWrongSharesIsNamedByReplay() throws {
        let f = try ChainFixture.trading()
        #expect(try verifier.verify(blocks: f.blocks).state.tnt.policy == .splitTNT)
        var entries = Self.flatten(f.blocks)
        let (index, original) = try #require(
            Self.firstDispatch(entries) { if case .split = $0.outcome { true } else { false } }
        )
        guard case let .split(shares) = original.outcome else { return }
        #expect(shares.count >= 2)
        var moved = shares
        moved[0].energyWh -= 1
        moved[1].energyWh += 1
        for edited in [DispatchOutcome.split(moved), .split(Array(shares.reversed()))] {
            let rewritten = try Dispatch(request: original.request, policy: .splitTNT, outcome: edited)
            entries[index] = TestKeys.gateway.signed(.dispatch(rewritten))
            let resealed = try Self.reseal(entries)
            let expected = VerificationFailure(
                height: UInt64(index / 10),
                entryIndex: UInt64(index),
                problem: .ruleViolation(
                    .tnt(.dispatchMismatch(original.request, expected: original.outcome, recorded: edited))
                )
            )
            #expect(failure { try verifier.verify(blocks: resealed) } == expected)
        }
        // Turning the split into "unserved" (no partial service claimed) is caught too.
        let unserved = try Dispatch(request: original.request, policy: .splitTNT, outcome: .unserved)
        entries[index] = TestKeys.gateway.signed(.dispatch(unserved))
        #expect(
            failure { try verifier.verify(blocks: try Self.reseal(entries)) }?.problem
                == .ruleViolation(
                    .tnt(.dispatchMismatch(original.request, expected: original.outcome, recorded: .unserved))
                )
        )
    }

    /// A dispatch naming another policy than the chain's: rewritten in place, or left as
    /// it was while the policy record before it is removed.
    @Test func dispatchWithAnotherPolicyThanTheChainsIsNamed() throws {
        let f = try ChainFixture.trading()
        let entries = Self.flatten(f.blocks)
        let policyIndex = try #require(entries.firstIndex { $0.record.type == .policy })
        let (index, original) = try #require(Self.firstDispatch(Array(entries[policyIndex...])) { _ in true })
        let at = policyIndex + index
        #expect(original.policy == .splitTNT)

        // Same decision, but claiming the plain rule.
        var edited = entries
        let plain = try Dispatch(request: original.request, policy: .lowestTNT, outcome: original.outcome)
        edited[at] = TestKeys.gateway.signed(.dispatch(plain))
        #expect(
            failure { try verifier.verify(blocks: try Self.reseal(edited)) }
                == VerificationFailure(
                    height: UInt64(at / 10),
                    entryIndex: UInt64(at),
                    problem: .ruleViolation(
                        .tnt(.policyMismatch(original.request, chain: .splitTNT, recorded: .lowestTNT))
                    )
                )
        )

        // The policy record removed: the split-policy dispatches no longer match the chain.
        var dropped = entries
        dropped.remove(at: policyIndex)
        let fail = try #require(failure { try verifier.verify(blocks: try Self.reseal(dropped)) })
        #expect(fail.entryIndex == UInt64(at - 1))
        #expect(
            fail.problem
                == .ruleViolation(.tnt(.policyMismatch(original.request, chain: .lowestTNT, recorded: .splitTNT)))
        )
        #expect(fail.description.contains("policy split-tnt"))
    }

    /// A reading re-signed with a foreign key: keeping the meter as claimed signer fails the
    /// signature; naming the foreign key as signer fails the signer rule.
    @Test func recordResignedWithForeignKeyIsNamed() throws {
        let f = try ChainFixture.standard()
        let foreign = TestKeys.key(0xee)
        let (height, _, index) = try #require(
            Self.locate(f.blocks, nth: 3) { if case .reading = $0.record { true } else { false } }
        )
        let original = Self.flatten(f.blocks)[Int(index)]

        // Same envelope signer (the meter), signature by the foreign key; stored over the original.
        let foreignSignature = try foreign.sign(Array(original.body))
        let impostor = try SignedRecord(
            body: Array(original.body),
            signer: original.signer,
            signature: foreignSignature
        )
        let sql = "UPDATE entry SET bytes = X'\(encodeHex(impostor.bytes))' WHERE idx = \(index)"
        #expect(
            try storeFailure(f.blocks, tamper: sql)
                == VerificationFailure(
                    height: UInt64(height),
                    entryIndex: index,
                    problem: .badSignature(signer: original.signer, type: .reading)
                )
        )

        // Foreign key named as signer, chain re-sealed by the gateway.
        var entries = Self.flatten(f.blocks)
        entries[Int(index)] = foreign.signed(original.record)
        guard case let .reading(r) = original.record else { return }
        let fail = failure { try verifier.verify(blocks: try Self.reseal(entries)) }
        #expect(
            fail
                == VerificationFailure(
                    height: UInt64(height),
                    entryIndex: index,
                    problem: .ruleViolation(.signerMismatch(signer: foreign.id, expected: r.meter, type: .reading))
                )
        )
    }

    @Test func revokedMeterCannotSignAfterRevocation() throws {
        var f = ChainFixture(maxEntries: 5)
        try f.enrollAll()
        try f.reading(f.consumers[0])
        try f.addGateway(
            .revocation(Revocation(meterKey: f.consumers[0].publicIdentity, role: .consumer, timestamp: f.time))
        )
        try f.finish()
        var entries = Self.flatten(f.blocks)
        let late = f.consumers[0].signed(
            .reading(try Reading(meter: f.consumers[0].id, sequence: 2, timestamp: f.time, values: []))
        )
        entries.append(late)
        let fail = failure { try verifier.verify(blocks: try Self.reseal(entries, maxEntries: 5)) }
        #expect(fail?.entryIndex == UInt64(entries.count - 1))
        #expect(fail?.problem == .ruleViolation(.tnt(.revoked(f.consumers[0].id))))
    }

    /// The `nth` entry matching `predicate`: (block height, offset in block, global index).
    static func locate(_ blocks: [Block], nth: Int, _ predicate: (SignedRecord) -> Bool) -> (Int, Int, UInt64)? {
        var seen = 0
        for (height, block) in blocks.enumerated() {
            for (offset, entry) in block.entries.enumerated() where predicate(entry) {
                if seen == nth { return (height, offset, block.firstEntryIndex + UInt64(offset)) }
                seen += 1
            }
        }
        return nil
    }
}

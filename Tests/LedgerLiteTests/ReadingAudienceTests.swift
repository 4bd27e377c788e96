import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

/// A reading names its gateway (version 2), and a chain takes it only when it names the
/// chain's own gateway; version 1 readings, which name none, stay valid on chains.
@Suite("Readings addressed to a gateway")
struct ReadingAudienceTests {
    let gateway = TestKeys.gateway
    let otherGateway = TestKeys.key(0x88)
    let meter = TestKeys.meter
    let t = TestKeys.baseTime

    func reading(_ sequence: UInt64, for gateway: GatewayID?) throws -> SignedRecord {
        meter.signed(
            .reading(
                try Reading(
                    meter: meter.id,
                    gateway: gateway,
                    sequence: sequence,
                    timestamp: t + Int64(sequence) * 1000,
                    values: [MeasuredValue(.energyImportWh, Int64(sequence) * 10)]
                )
            )
        )
    }

    func enrolledState(of gateway: SigningIdentity) throws -> ChainState {
        var state = ChainState(gatewayKey: gateway.publicIdentity)
        try state.apply(
            gateway.signed(.enrollment(Enrollment(meterKey: meter.publicIdentity, role: .consumer, timestamp: t)))
        )
        return state
    }

    @Test func theVersionFollowsWhetherTheReadingNamesAGateway() throws {
        let addressed = try Reading(meter: meter.id, gateway: gateway.id, sequence: 1, timestamp: t, values: [])
        let unaddressed = try Reading(meter: meter.id, sequence: 1, timestamp: t, values: [])
        #expect(addressed.version == 2 && addressed.canonicalBytes()[1] == 2)
        #expect(unaddressed.version == 1 && unaddressed.canonicalBytes()[1] == 1)
        #expect(addressed.canonicalBytes().count == unaddressed.canonicalBytes().count + 16)
        #expect(try Reading(canonicalBytes: addressed.canonicalBytes()[...]).gateway == gateway.id)
        #expect(try Reading(canonicalBytes: unaddressed.canonicalBytes()[...]).gateway == nil)
    }

    @Test func aVersion2ReadingCutShortOfItsGatewayIdIsRefused() throws {
        let addressed = try Reading(meter: meter.id, gateway: gateway.id, sequence: 1, timestamp: t, values: [])
        let truncated = Array(addressed.canonicalBytes().prefix(30))
        #expect(throws: RecordDecodingError.self) { try Reading(canonicalBytes: truncated[...]) }
    }

    @Test func aReadingForAnotherGatewayIsRefusedByTheChainRule() throws {
        var state = try enrolledState(of: gateway)
        let foreign = try reading(1, for: otherGateway.id)
        let expected = RuleViolation.readingForOtherGateway(
            meter.id,
            sequence: 1,
            named: otherGateway.id,
            gateway: gateway.id
        )
        #expect(throws: expected) { _ = try state.admit(foreign) }
        #expect(throws: expected) { try state.apply(foreign) }
        #expect(state.nextReadingSequence(of: meter.id) == 1)
        #expect(expected.description.contains(otherGateway.id.hex))
        // The same meter's reading for this gateway takes the number.
        try state.apply(try reading(1, for: gateway.id))
        #expect(state.nextReadingSequence(of: meter.id) == 2)
    }

    @Test func theBuilderRefusesAReadingForAnotherGateway() throws {
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 10, maxAgeMilliseconds: 60_000))
        _ = try builder.addGatewayRecord(
            .enrollment(Enrollment(meterKey: meter.publicIdentity, role: .consumer, timestamp: t)),
            at: t
        )
        #expect(throws: BuilderError.self) { _ = try builder.add(try reading(1, for: otherGateway.id), at: t + 1000) }
        _ = try builder.add(try reading(1, for: gateway.id), at: t + 1000)
        #expect(builder.state.nextReadingSequence(of: meter.id) == 2)
    }

    /// A chain written before version 2 holds version 1 readings; later readings of the same
    /// meter are version 2. Both verify, from the blocks and from a store.
    @Test func aChainWithVersion1ReadingsBeforeVersion2OnesVerifies() throws {
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 3, maxAgeMilliseconds: 60_000))
        var blocks: [Block] = []
        let (_, first) = try builder.addGatewayRecord(
            .enrollment(Enrollment(meterKey: meter.publicIdentity, role: .consumer, timestamp: t)),
            at: t
        )
        if let first { blocks.append(first) }
        for sequence in UInt64(1)...8 {
            let entry = try reading(sequence, for: sequence <= 4 ? nil : gateway.id)
            if let block = try builder.add(entry, at: t + Int64(sequence) * 1000) { blocks.append(block) }
        }
        if let last = try builder.seal(at: t + 10_000) { blocks.append(last) }
        let verifier = ChainVerifier(gatewayKey: gateway.publicIdentity)
        let verified = try verifier.verify(blocks: blocks)
        #expect(verified.state.nextReadingSequence(of: meter.id) == 9)
        #expect(verified.tree.root == builder.tree.root)

        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try ChainStore(path: dir.file("chain.sqlite"))
        for block in blocks { try store.append(block) }
        let fromStore = try verifier.verify(store)
        #expect(fromStore.state.nextReadingSequence(of: meter.id) == 9)
        let versions = try (1...8).map { sequence in
            guard case let .reading(r)? = try store.reading(meter: meter.id, sequence: UInt64(sequence))?.entry.record
            else { return UInt8(0) }
            return r.version
        }
        #expect(versions == [1, 1, 1, 1, 2, 2, 2, 2])
    }
}

import ModbusBridge
import TestSupport
import Testing

@testable import LedgerLite

/// The TNT state's version-3 digest (docs/FORMATS.md, "TNT state"): kept incrementally, it
/// equals the digest computed from scratch by the format's definition.
@Suite struct StateCommitmentTests {
    // MARK: the definition, from scratch

    /// The keyed Merkle root of (key, leaf hash) pairs by the format's definition: one leaf
    /// is its hash; more split at the first bit where their keys differ.
    static func referenceRoot(_ leaves: [(key: [UInt8], hash: Hash256)]) -> Hash256 {
        let sorted = leaves.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        return referenceRoot(sorted[...])
    }

    static func bit(_ key: [UInt8], _ index: Int) -> Bool { key[index / 8] >> (7 - UInt8(index % 8)) & 1 == 1 }

    static func referenceRoot(_ leaves: ArraySlice<(key: [UInt8], hash: Hash256)>) -> Hash256 {
        guard let first = leaves.first, let last = leaves.last else { return Merkle.emptyRoot }
        guard leaves.count > 1 else { return first.hash }
        // Sorted keys: the first bit where the lowest and the highest differ is the first
        // bit where any two differ, and the keys with a 0 there come first.
        let split = (0..<(first.key.count * 8)).first { bit(first.key, $0) != bit(last.key, $0) }!
        let right = leaves.firstIndex { bit($0.key, split) }!
        return Merkle.nodeHash(referenceRoot(leaves[..<right]), referenceRoot(leaves[right...]))
    }

    /// The version-3 digest of `state`, from its version-2 encoding (whose meter rows and
    /// request entries are version 3's leaves).
    static func referenceDigest(_ state: TNTState) -> Hash256 {
        let v2 = state.canonicalBytes()
        func u32(_ at: Int) -> Int { v2[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let meterCount = u32(11)
        var meters: [(key: [UInt8], hash: Hash256)] = []
        var at = 15
        for _ in 0..<meterCount {
            let row = Array(v2[at..<at + 67])
            meters.append((Array(row[0..<16]), Merkle.leafHash(row)))
            at += 67
        }
        let requestCount = u32(at)
        at += 4
        var requests: [(key: [UInt8], hash: Hash256)] = []
        for _ in 0..<requestCount {
            let entry = Array(v2[at..<at + 32])
            requests.append((Array(entry[0..<24]), Merkle.leafHash(entry)))
            at += 32
        }
        var encoding: [UInt8] = [0x20, 0x03]
        encoding += v2[2..<11]  // policy, tolerance
        encoding += referenceRoot(meters).bytes + be64(UInt64(meterCount))
        encoding += referenceRoot(requests).bytes + be64(UInt64(requestCount))
        return Hash256.sha256(encoding)
    }

    static func be64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }

    // MARK: random operations

    /// Drives a `TNTState` with random enrollments, revocations, export readings, offers,
    /// requests, dispatches and policy changes over a small pool of meters.
    struct Driver {
        static let pool: [PublicIdentity] = (0..<24).map { TNTTests.key(700 + $0) }
        var state = TNTState()
        var random: SplitMix64
        var requestSeq: [KeyID: UInt64] = [:]
        var offerSeq: [KeyID: UInt64] = [:]
        var readingSeq: [KeyID: UInt64] = [:]
        var export: [KeyID: Int64] = [:]

        init(seed: UInt64) { random = SplitMix64(seed: seed) }

        mutating func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }

        /// Even pool indices are producers, odd ones consumers (a meter keeps its role).
        static func role(_ index: Int) -> MeterRole { index % 2 == 0 ? .producer : .consumer }

        /// One random operation. A refused one must leave the state, and so the digest,
        /// unchanged, which the caller's comparison checks too.
        mutating func step() throws {
            let i = pick(Self.pool.count)
            let key = Self.pool[i]
            let id = key.id
            let record: Record
            switch pick(10) {
            case 0, 1:
                record = .enrollment(Enrollment(meterKey: key, role: Self.role(i), timestamp: 0))
            case 2:
                record = .revocation(Revocation(meterKey: key, role: Self.role(i), timestamp: 0))
            case 3:
                export[id, default: 0] += Int64(pick(5000)) - 500  // sometimes backwards
                readingSeq[id, default: 0] += 1
                record = .reading(
                    try Reading(
                        meter: id,
                        sequence: readingSeq[id]!,
                        timestamp: 0,
                        values: [MeasuredValue(.energyExportWh, export[id]!)]
                    )
                )
            case 4:
                offerSeq[id, default: 0] += 1
                record = .offer(
                    try Offer(
                        producer: id,
                        sequence: offerSeq[id]!,
                        energyWh: UInt64(1 + pick(4000)),
                        validFrom: 0,
                        validUntil: 1
                    )
                )
            case 5, 6:
                requestSeq[id, default: 0] += 1
                record = .request(
                    try EnergyRequest(
                        consumer: id,
                        sequence: requestSeq[id]!,
                        energyWh: UInt64(1 + pick(3000)),
                        timestamp: 0
                    )
                )
            case 7, 8:
                let pending = state.pendingRequests
                guard !pending.isEmpty else { return }
                record = .dispatch(try state.dispatch(for: pending[pick(pending.count)]))
            default:
                record = .policy(
                    PolicyRecord(
                        policy: pick(2) == 0 ? .lowestTNT : .splitTNT,
                        offerToleranceWh: UInt64(pick(3)) * 100,
                        timestamp: 0
                    )
                )
            }
            do { try state.apply(record) } catch {}  // refused: unchanged, as the next comparison checks
        }
    }

    @Test(arguments: 0..<150 as Range<UInt64>)
    func incrementalDigestEqualsTheDigestFromScratch(seed: UInt64) throws {
        var d = Driver(seed: seed)
        #expect(d.state.commitmentDigest() == Self.referenceDigest(d.state))
        for step in 0..<250 {
            try d.step()
            // Seal at random points, so several changes accumulate between digests.
            guard d.pick(6) == 0 else { continue }
            #expect(d.state.commitmentDigest() == Self.referenceDigest(d.state), "seed \(seed), step \(step)")
            if d.pick(8) == 0 {
                // A copy (a block applied on a trial copy, an auditor's candidate) goes its own
                // way; the original's commitment is not disturbed by it.
                var fork = d
                for _ in 0..<5 { try fork.step() }
                #expect(fork.state.commitmentDigest() == Self.referenceDigest(fork.state), "fork, seed \(seed)")
                #expect(d.state.commitmentDigest() == Self.referenceDigest(d.state), "after fork, seed \(seed)")
            }
        }
        var rebuilt = d.state
        rebuilt.rebuildCommitment()
        #expect(rebuilt.commitmentDigest() == d.state.commitmentDigest())
        #expect(rebuilt.commitmentDigest() == Self.referenceDigest(d.state))
    }

    @Test func theDigestForAHeaderVersionIsVersion2ForVersion1AndVersion3ForVersion2() throws {
        var d = Driver(seed: 7)
        for _ in 0..<100 { try d.step() }
        #expect(d.state.digest(forHeaderVersion: 1) == d.state.digest())
        #expect(d.state.digest(forHeaderVersion: 2) == Self.referenceDigest(d.state))
        #expect(d.state.digest() != Self.referenceDigest(d.state))
    }

    // MARK: the trie alone

    /// Ids sharing long prefixes (the trie's worst shapes) and ids arriving in every order.
    static func crafted(_ random: inout SplitMix64) -> KeyID {
        switch random.next() % 4 {
        case 0: return KeyID(high: 0, low: random.next() % 64)  // 122 shared bits
        case 1: return KeyID(high: random.next() % 4, low: random.next())
        case 2: return KeyID(high: UInt64.max, low: UInt64.max - random.next() % 3)
        default: return KeyID(high: random.next(), low: random.next())
        }
    }

    @Test(arguments: 0..<40 as Range<UInt64>)
    func trieRootIsTheDefinitionsWhateverTheOrderOfChanges(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var trie = KeyedMerkleTrie<KeyID>()
        var model: [KeyID: Hash256] = [:]
        for step in 0..<400 {
            let id = Self.crafted(&random)
            if random.next() % 4 == 0 {
                trie.remove(id)
                model[id] = nil
            } else {
                let leaf = Hash256.sha256(Self.be64(random.next()))
                trie.set(id, leafHash: leaf)
                model[id] = leaf
            }
            guard random.next() % 5 == 0 else { continue }
            let expected = Self.referenceRoot(model.map { ($0.key.bytes, $0.value) })
            #expect(trie.root() == expected, "seed \(seed), step \(step)")
            #expect(trie.count == model.count)
        }
    }

    @Test func requestKeysOrderByConsumerThenSequence() {
        var random = SplitMix64(seed: 3)
        var trie = KeyedMerkleTrie<RequestReference>()
        var model: [RequestReference: Hash256] = [:]
        for _ in 0..<300 {
            let reference = RequestReference(consumer: Self.crafted(&random), sequence: random.next() % 5 << 40)
            if random.next() % 3 == 0 {
                trie.remove(reference)
                model[reference] = nil
            } else {
                let leaf = Hash256.sha256(Self.be64(random.next()))
                trie.set(reference, leafHash: leaf)
                model[reference] = leaf
            }
        }
        let expected = Self.referenceRoot(model.map { ($0.key.consumer.bytes + Self.be64($0.key.sequence), $0.value) })
        #expect(trie.root() == expected)
    }

    @Test func emptyAndSingleLeafRoots() {
        var trie = KeyedMerkleTrie<KeyID>()
        #expect(trie.root() == Merkle.emptyRoot)
        let leaf = Merkle.leafHash([1, 2, 3])
        trie.set(KeyID(high: 5, low: 6), leafHash: leaf)
        #expect(trie.root() == leaf)
        trie.remove(KeyID(high: 5, low: 7))  // absent: nothing changes
        #expect(trie.root() == leaf)
        trie.remove(KeyID(high: 5, low: 6))
        #expect(trie.root() == Merkle.emptyRoot)
        #expect(trie.count == 0)
    }
}

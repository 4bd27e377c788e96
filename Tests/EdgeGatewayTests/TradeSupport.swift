import Foundation
import TestSupport

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

/// Builds a gateway data directory whose chain holds trades, written directly with
/// LedgerLite's `BlockBuilder`: sealed blocks go to the store, the entries after the last
/// seal to the pending journal (as a gateway that acknowledged them and then stopped).
/// Every entry is added 1 s after the previous one.
struct TradeChain {
    let dir: DataDirectory
    let store: ChainStore
    var builder: BlockBuilder
    var time: Int64 = 1_767_225_600_000
    /// Every entry added, with its index and time.
    var added: [PendingJournal.Entry] = []
    private var readingSeq: [MeterID: UInt64] = [:]
    private var offerSeq: [MeterID: UInt64] = [:]
    private var requestSeq: [MeterID: UInt64] = [:]

    init() throws {
        dir = DataDirectory(makeTempDir())
        let key = try dir.initialise()
        store = try ChainStore(path: dir.chainPath)
        builder = BlockBuilder(gateway: key, policy: SealPolicy(maxEntries: 1_000_000, maxAgeMilliseconds: .max))
    }

    /// Index the next entry takes.
    var nextIndex: UInt64 { builder.tree.size }

    @discardableResult
    mutating func add(_ entry: SignedRecord) throws -> UInt64 {
        let index = nextIndex
        time += 1000
        let sealed = try builder.add(entry, at: time)
        precondition(sealed == nil, "TradeChain seals only in seal()")
        added.append(PendingJournal.Entry(index: index, time: time, bytes: entry.bytes))
        return index
    }

    @discardableResult
    mutating func gateway(_ record: Record) throws -> UInt64 {
        try add(try SignedRecord.sign(record, with: builder.gateway))
    }

    mutating func enroll(_ key: SigningIdentity, _ role: MeterRole) throws {
        try gateway(.enrollment(Enrollment(meterKey: key.publicIdentity, role: role, timestamp: time)))
    }

    mutating func revoke(_ key: SigningIdentity, _ role: MeterRole) throws {
        try gateway(.revocation(Revocation(meterKey: key.publicIdentity, role: role, timestamp: time)))
    }

    mutating func policy(_ policy: DispatchPolicy, toleranceWh: UInt64) throws {
        try gateway(.policy(PolicyRecord(policy: policy, offerToleranceWh: toleranceWh, timestamp: time)))
    }

    /// A reading with an export counter (producers) or without (consumers).
    mutating func reading(_ meter: SigningIdentity, exportWh: Int64? = nil) throws {
        let seq = (readingSeq[meter.id] ?? 0) + 1
        readingSeq[meter.id] = seq
        var values = [MeasuredValue(.energyImportWh, 10 * Int64(seq))]
        if let exportWh { values.append(MeasuredValue(.energyExportWh, exportWh)) }
        try add(
            try SignedRecord.sign(
                .reading(try Reading(meter: meter.id, sequence: seq, timestamp: time, values: values)),
                with: meter
            )
        )
    }

    mutating func offer(_ producer: SigningIdentity, _ wh: UInt64) throws {
        let seq = (offerSeq[producer.id] ?? 0) + 1
        offerSeq[producer.id] = seq
        let offer = try Offer(
            producer: producer.id,
            sequence: seq,
            energyWh: wh,
            validFrom: time,
            validUntil: time + 3_600_000
        )
        try add(try SignedRecord.sign(.offer(offer), with: producer))
    }

    /// A request (no dispatch); returns its reference and entry index.
    @discardableResult
    mutating func request(_ consumer: SigningIdentity, _ wh: UInt64) throws -> (ref: RequestReference, index: UInt64) {
        let seq = (requestSeq[consumer.id] ?? 0) + 1
        requestSeq[consumer.id] = seq
        let q = try EnergyRequest(consumer: consumer.id, sequence: seq, energyWh: wh, timestamp: time + 1000)
        return (q.reference, try add(try SignedRecord.sign(.request(q), with: consumer)))
    }

    /// The rule's dispatch for a pending request; returns it and its entry index.
    @discardableResult
    mutating func dispatch(_ ref: RequestReference) throws -> (dispatch: Dispatch, index: UInt64) {
        let d = try builder.state.tnt.dispatch(for: ref)
        return (d, try gateway(.dispatch(d)))
    }

    @discardableResult
    mutating func trade(_ consumer: SigningIdentity, _ wh: UInt64) throws -> (dispatch: Dispatch, index: UInt64) {
        try dispatch(try request(consumer, wh).ref)
    }

    /// Seals what was added since the last seal into a block in the store.
    @discardableResult
    mutating func seal() throws -> Block {
        let block = try builder.seal(at: time)!
        try store.append(block)
        return block
    }

    mutating func jump(ms: Int64) { time += ms }

    /// Writes the entries after the last sealed block to the pending journal.
    func journalTheRest() throws {
        let sealed = try store.tip()?.treeSize ?? 0
        try PendingJournal(path: dir.journalPath).append(added.filter { $0.index >= sealed })
    }

    /// A gateway serving the directory (it verifies the chain and replays the journal).
    func open() async throws -> Harness {
        let logs = LogCapture()
        let clock = TestClock(time + 60_000)
        var config = ChainWriterConfig()
        config.sealIntervalMs = 3_600_000
        let gateway = try await Gateway.open(directory: dir, config: config, logger: logs.logger, clock: clock.function)
        return Harness(dir: dir, clock: clock, gateway: gateway, logs: logs)
    }
}

/// The worked example on a gateway's chain.
///
/// Block 0: producers water, wind, solar and spare, consumers house and shop, policy
/// lowest TNT with 10 000 Wh offer tolerance; water's readings show 1 500 Wh export.
/// Offers and 100 Wh requests bring solar to 900 Wh at TNT 3 (its first two requests are
/// both made before either is dispatched), wind to 6 000 Wh at TNT 2 and water to
/// 1 000 Wh at TNT 1.
/// Block 1 (60 s later): spare is revoked; house asks 600 Wh → water (TNT 1→2, 400 Wh
/// left); shop asks 600 Wh → wind (TNT 2→3).
/// Pending (60 s later): shop asks 1 200 Wh → wind (only it has enough; TNT 3→4); shop asks
/// 10 000 Wh → unserved; house asks 50 Wh, not yet dispatched.
struct WorkedExample {
    static let water = TestKeys.key(0x61)
    static let wind = TestKeys.key(0x62)
    static let solar = TestKeys.key(0x63)
    static let spare = TestKeys.key(0x64)
    static let house = TestKeys.key(0x41)
    static let shop = TestKeys.key(0x42)

    var chain: TradeChain
    /// Dispatch entry indices, in chain order.
    var dispatches: [UInt64] = []
    /// Request entry index of each dispatch.
    var requestOf: [UInt64: UInt64] = [:]
    var block0: Block
    var block1: Block

    init() throws {
        var c = try TradeChain()
        var dispatches: [UInt64] = []
        var requestOf: [UInt64: UInt64] = [:]
        func trade(_ consumer: SigningIdentity, _ wh: UInt64) throws {
            let (ref, ri) = try c.request(consumer, wh)
            let di = try c.dispatch(ref).index
            dispatches.append(di)
            requestOf[di] = ri
        }
        let (water, wind, solar, spare, house, shop) = (
            Self.water, Self.wind, Self.solar, Self.spare, Self.house, Self.shop
        )
        for p in [water, wind, solar, spare] { try c.enroll(p, .producer) }
        for q in [house, shop] { try c.enroll(q, .consumer) }
        try c.policy(.lowestTNT, toleranceWh: 10_000)
        try c.reading(water, exportWh: 20_000)
        try c.offer(solar, 1200)
        let first = try c.request(house, 100)
        let second = try c.request(house, 100)
        for r in [first, second] {
            let di = try c.dispatch(r.ref).index
            dispatches.append(di)
            requestOf[di] = r.index
        }
        try trade(house, 100)
        try c.offer(wind, 6200)
        for _ in 0..<2 { try trade(house, 100) }
        try c.reading(water, exportWh: 21_500)
        try c.offer(water, 1100)
        try trade(house, 100)
        let block0 = try c.seal()

        c.jump(ms: 60_000)
        try c.revoke(spare, .producer)
        try trade(house, 600)
        try trade(shop, 600)
        let block1 = try c.seal()

        c.jump(ms: 60_000)
        try trade(shop, 1200)
        try trade(shop, 10_000)
        try c.request(house, 50)
        try c.journalTheRest()
        chain = c
        self.dispatches = dispatches
        self.requestOf = requestOf
        self.block0 = block0
        self.block1 = block1
    }

    /// Start of block 1 (its first entry's time).
    var block1Start: Int64 { block1.header.header.firstTimestamp }
    /// Just after block 1's last entry, before the pending ones.
    var afterBlock1: Int64 { block1.header.header.lastTimestamp + 1 }
}

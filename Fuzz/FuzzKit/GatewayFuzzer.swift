import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import ModbusBridge
import Synchronization

/// Drives validly signed hostile readings, offers and requests through a real gateway's
/// admission, in process, the way its HTTP handlers do (`IngestPreparation`, then the
/// `ChainWriter`), and afterwards checks that the chain it wrote verifies.
///
/// Most inputs are signed by enrolled meters, so they reach the chain rules and the anomaly
/// detector rather than stopping at the signature check: sequences in and out of order,
/// timestamps and counters at the types' extremes, offers with any energy and interval,
/// readings addressed to another gateway or to none. A few are signed garbage, a stranger's
/// records, or valid records with a broken signature. A trap anywhere kills the process,
/// which is the failure this exists to find; `run` reports every other outcome by name.
package final class GatewayFuzzer {
    /// The chain did not verify after the run.
    package struct ChainBroken: Error, CustomStringConvertible {
        package let description: String
    }

    private let directory: DataDirectory
    private let gateway: Gateway
    private let clock: FuzzClock
    private var random: SplitMix64
    private let consumers: [SigningIdentity]
    private let producers: [SigningIdentity]
    private let stranger = SigningIdentity()
    private let otherGateway = SigningIdentity().id
    /// Per meter: the last reading sequence the gateway accepted, and the next one to send
    /// (ahead of the accepted one within a batch).
    private var acceptedSequence: [MeterID: UInt64] = [:]
    private var nextSequence: [MeterID: UInt64] = [:]
    private var counters: [MeterID: (importWh: Int64, exportWh: Int64)] = [:]
    private var tradeSequence: [MeterID: UInt64] = [:]
    /// What the inputs so far came to, by outcome.
    package private(set) var outcomes = FuzzOutcomes()

    private init(
        directory: DataDirectory,
        gateway: Gateway,
        clock: FuzzClock,
        seed: UInt64,
        consumers: [SigningIdentity],
        producers: [SigningIdentity]
    ) {
        self.directory = directory
        self.gateway = gateway
        self.clock = clock
        random = SplitMix64(seed: seed)
        self.consumers = consumers
        self.producers = producers
    }

    /// A fresh gateway in `path` (an empty directory) with `meters` consumers and as many
    /// producers enrolled, fed from `seed`.
    package static func open(path: String, seed: UInt64, meters: Int = 8) async throws -> GatewayFuzzer {
        let directory = DataDirectory(path)
        _ = try directory.initialise()
        let clock = FuzzClock(start: 1_790_000_000_000)
        var config = ChainWriterConfig()
        config.sealSize = 200
        let gateway = try await Gateway.open(
            directory: directory,
            config: config,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: clock.now
        )
        let consumers = (0..<meters).map { _ in SigningIdentity() }
        let producers = (0..<meters).map { _ in SigningIdentity() }
        for key in consumers { _ = try await gateway.writer.enroll(key.publicIdentity, role: .consumer) }
        for key in producers { _ = try await gateway.writer.enroll(key.publicIdentity, role: .producer) }
        return GatewayFuzzer(
            directory: directory,
            gateway: gateway,
            clock: clock,
            seed: seed,
            consumers: consumers,
            producers: producers
        )
    }

    /// Feeds `count` inputs, in batches as agents send them.
    package func run(inputs count: Int) async throws {
        var done = 0
        while done < count {
            clock.advance(by: 1 + Int64(random.next() % 2000))
            switch random.next() % 100 {
            case 0..<55:
                let batch = (0..<min(count - done, 1 + Int(random.next() % 16))).map { _ in hostileReading() }
                let prepared = await IngestPreparation.prepare(batch, keys: gateway.writer.keys)
                for result in await gateway.writer.ingest(prepared) {
                    outcomes.record("reading \(result.status.rawValue)\(result.reason.map { ":" + $0.rawValue } ?? "")")
                    if result.status == .accepted, let hex = result.meter, let meter = MeterID(hex: hex),
                        let sequence = result.sequence
                    {
                        acceptedSequence[meter] = max(acceptedSequence[meter] ?? 0, sequence)
                    }
                }
                nextSequence = acceptedSequence
                done += batch.count
            case 55..<95:
                guard let entry = try hostileTrade() else {
                    // Values no meter can sign (an interval that ends before it starts, zero
                    // energy): the decoder refuses them too, and garbage is covered above.
                    outcomes.record("trade not encodable")
                    done += 1
                    continue
                }
                if let item = TradeItem.prepare(entry, keys: gateway.writer.keys) {
                    outcomes.record(Self.describe(await gateway.writer.trade(item)))
                } else {
                    outcomes.record("trade not an offer or request")
                }
                done += 1
            default:
                await gateway.writer.sealNow()
            }
        }
    }

    /// Seals what is pending, closes the gateway, and verifies its chain from the files.
    /// - Throws: `ChainBroken` naming the block and the problem when it does not verify.
    package func finish() async throws -> VerifiedChain {
        await gateway.writer.sealNow()
        await gateway.shutdown()
        let chain = try ReadOnlyChain(directory)
        do {
            return try ChainVerifier(gatewayKey: chain.gatewayKey).verify(chain.store)
        } catch let failure as VerificationFailure {
            throw ChainBroken(description: "the chain does not verify after the run: \(failure)")
        }
    }

    // MARK: readings

    private func hostileReading() -> String {
        let roll = random.next() % 100
        if roll < 4 { return Data(random.bytesOfAnyLength()).base64EncodedString() }
        let meter = random.chance(70) ? random.pick(consumers + producers) : stranger
        do {
            let signed = try SignedRecord.sign(.reading(try reading(by: meter)), with: meter)
            switch roll {
            case 4..<8: return Data(signed.bytes.flippingOneBit(using: &random)).base64EncodedString()
            case 8..<12: return Data(try resignedMutation(of: signed, by: meter)).base64EncodedString()
            default: return Data(signed.bytes).base64EncodedString()
            }
        } catch {
            // Values a meter cannot sign (a repeated measurand, sequence 0): what it would
            // send instead is garbage, which the roll above covers.
            return Data(random.bytesOfAnyLength()).base64EncodedString()
        }
    }

    private func reading(by meter: SigningIdentity) throws -> Reading {
        let last = nextSequence[meter.id] ?? 0
        let sequence: UInt64
        switch random.next() % 20 {
        case 0..<17: sequence = last &+ 1
        case 17: sequence = last
        default: sequence = random.hostileUInt64(around: last)
        }
        if sequence == last &+ 1 { nextSequence[meter.id] = sequence }
        let now = clock.now()
        let timestamp = random.chance(90) ? now &- Int64(random.next() % 5000) : random.hostileInt64(around: now)
        // Counters move on plausibly; a hostile value is sent once, not remembered, so that
        // the meter's later readings still reach the rules behind the value checks.
        var counter = counters[meter.id] ?? (0, 0)
        counter.importWh += Int64(random.next() % 50)
        counter.exportWh += Int64(random.next() % 50)
        counters[meter.id] = counter
        let importWh = random.chance(95) ? counter.importWh : random.hostileInt64(around: counter.importWh)
        let exportWh = random.chance(95) ? counter.exportWh : random.hostileInt64(around: counter.exportWh)
        var values = [
            MeasuredValue(.energyImportWh, importWh),
            MeasuredValue(.activePowerW, random.chance(95) ? 500 : random.hostileInt64(around: 500)),
            MeasuredValue(.voltageL1dV, random.chance(95) ? 2300 : random.hostileInt64(around: 2300)),
        ]
        if producers.contains(where: { $0.id == meter.id }) {
            values.append(MeasuredValue(.energyExportWh, exportWh))
        }
        let addressee: GatewayID?
        switch random.next() % 20 {
        case 0: addressee = nil
        case 1: addressee = otherGateway
        default: addressee = gateway.writer.gatewayKey.id
        }
        return try Reading(
            meter: meter.id,
            gateway: addressee,
            sequence: sequence,
            timestamp: timestamp,
            values: values,
            status: ReadingStatus(rawValue: random.chance(90) ? 0 : UInt16(truncatingIfNeeded: random.next()))
        )
    }

    /// The record's body with one byte set to an extreme, signed again by `meter`: a
    /// well-signed envelope whose body may not decode, or decodes to anything.
    private func resignedMutation(of signed: SignedRecord, by meter: SigningIdentity) throws -> [UInt8] {
        var body = Array(signed.body)
        body[Int(random.next() % UInt64(body.count))] = random.pick([0x00, 0x7F, 0x80, 0xFF])
        let signature = try meter.sign(body)
        let header = signed.bytes[..<(signed.bytes.count - body.count - 64)]
        return Array(header) + body + signature
    }

    // MARK: offers and requests

    private func hostileTrade() throws -> SignedRecord? {
        do {
            let (record, meter) = try hostileTradeRecord()
            return try sign(record, by: meter)
        } catch is RecordDecodingError {
            return nil
        }
    }

    private func hostileTradeRecord() throws -> (Record, SigningIdentity) {
        let now = clock.now()
        if random.chance(50) {
            let producer = random.chance(90) ? random.pick(producers) : random.pick(consumers)
            let offer = try Offer(
                producer: producer.id,
                sequence: tradeSequenceNumber(for: producer.id),
                energyWh: random.chance(70) ? random.next() % 5000 : random.hostileUInt64(around: 1000),
                validFrom: random.chance(70) ? now : random.hostileInt64(around: now),
                validUntil: random.chance(70) ? now &+ 3_600_000 : random.hostileInt64(around: now)
            )
            return (.offer(offer), producer)
        }
        let consumer = random.chance(90) ? random.pick(consumers) : random.pick(producers)
        let request = try EnergyRequest(
            consumer: consumer.id,
            sequence: tradeSequenceNumber(for: consumer.id),
            energyWh: random.chance(70) ? 1 + random.next() % 3000 : random.hostileUInt64(around: 1000),
            timestamp: random.chance(70) ? now : random.hostileInt64(around: now)
        )
        return (.request(request), consumer)
    }

    private func tradeSequenceNumber(for meter: MeterID) -> UInt64 {
        let last = tradeSequence[meter] ?? 0
        guard random.chance(80) else { return max(1, random.hostileUInt64(around: last)) }
        tradeSequence[meter] = last + 1
        return last + 1
    }

    /// Signed by `meter`, or now and then with its signature broken.
    private func sign(_ record: Record, by meter: SigningIdentity) throws -> SignedRecord {
        let signed = try SignedRecord.sign(record, with: meter)
        guard random.chance(5) else { return signed }
        var signature = Array(signed.signature)
        signature[Int(random.next() % 64)] ^= 0x01
        return try SignedRecord(body: Array(signed.body), signer: signed.signer, signature: signature)
    }

    private static func describe(_ answer: TradeAnswer) -> String {
        switch answer {
        case let .offer(o): return "offer \(o.status.rawValue)\(o.reason.map { ":" + $0.rawValue } ?? "")"
        case let .request(r): return "request \(r.status.rawValue)\(r.reason.map { ":" + $0.rawValue } ?? "")"
        }
    }
}

/// The gateway's clock during a run: moved by the fuzzer, read by the writer's thread.
final class FuzzClock: Sendable {
    private let milliseconds: Atomic<Int64>

    init(start: Int64) { milliseconds = Atomic(start) }

    var now: @Sendable () -> Int64 { { self.milliseconds.load(ordering: .relaxed) } }

    func advance(by ms: Int64) { milliseconds.add(ms, ordering: .relaxed) }
}

extension SplitMix64 {
    /// 0 to 600 random bytes: anything an attacker may post as a record.
    fileprivate mutating func bytesOfAnyLength() -> [UInt8] {
        (0..<Int(next() % 600)).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

extension [UInt8] {
    func flippingOneBit(using random: inout SplitMix64) -> [UInt8] {
        var bytes = self
        bytes[Int(random.next() % UInt64(bytes.count))] ^= UInt8(1) << (random.next() % 8)
        return bytes
    }
}

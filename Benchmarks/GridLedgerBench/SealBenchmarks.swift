import Foundation
import LedgerLite

/// The cost of sealing a block of one reading as the number of producers grows: a seal
/// commits to the TNT state (version 3, rehashing only the meter the reading changed), so it
/// should cost about the same at 100 and at 100,000 producers. Beside it, the version-2
/// digest (the whole state hashed, what a version-1 header commits to) at the same sizes.
///
/// `GRIDLEDGER_SEAL_PRODUCERS=SMALL,LARGE` sets the two sizes (default `100,100000`), so a
/// debug build can run it at a tiny size.
enum SealBenchmarks {
    static func run() throws {
        let setting = ProcessInfo.processInfo.environment["GRIDLEDGER_SEAL_PRODUCERS"] ?? ""
        let sizes = setting.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        let (small, large) = sizes.count == 2 ? (sizes[0], sizes[1]) : (100, 100_000)
        let atSmall = try measure(producers: small)
        let atLarge = try measure(producers: large)
        Bench.report(
            "seal of a one-reading block, \(small) producers",
            value: atSmall.seal * 1000,
            unit: "ms",
            reference: ("version-2 state digest alone", atSmall.fullDigest * 1000)
        )
        Bench.report(
            "seal of a one-reading block, \(large) producers",
            value: atLarge.seal * 1000,
            unit: "ms",
            reference: ("the same at \(small) producers", atSmall.seal * 1000),
            target: "ratio ≤ 2"
        )
        Bench.report(
            "version-2 state digest alone, \(large) producers",
            value: atLarge.fullDigest * 1000,
            unit: "ms",
            reference: ("seal of a one-reading block", atLarge.seal * 1000)
        )
    }

    /// Median times, in seconds, of a seal after one producer reading and of the version-2
    /// digest of the same state.
    static func measure(producers count: Int) throws -> (seal: Double, fullDigest: Double) {
        let gateway = try LedgerBenchmarks.key(950_000)
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: .max, maxAgeMilliseconds: .max))
        var time = LedgerBenchmarks.baseTime
        var producers: [SigningIdentity] = []
        producers.reserveCapacity(count)
        for i in 0..<count {
            let producer = try LedgerBenchmarks.key(2_000_000 + i)
            producers.append(producer)
            let enrollment = try SignedRecord.sign(
                .enrollment(Enrollment(meterKey: producer.publicIdentity, role: .producer, timestamp: time)),
                with: gateway
            )
            try builder.append(signatureChecked: enrollment, at: time)
            if i % 10_000 == 9_999 { _ = try builder.seal(at: time) }
        }
        _ = try builder.seal(at: time)

        var sequence: [KeyID: UInt64] = [:]
        var sealTimes: [Double] = []
        for round in 0..<200 {
            let producer = producers[(round * 7_919) % count]
            let seq = (sequence[producer.id] ?? 0) + 1
            sequence[producer.id] = seq
            time += 1000
            let reading = try Reading(
                meter: producer.id,
                sequence: seq,
                timestamp: time,
                values: [MeasuredValue(.energyImportWh, 10), MeasuredValue(.energyExportWh, Int64(seq) * 100)]
            )
            try builder.append(signatureChecked: try SignedRecord.sign(.reading(reading), with: producer), at: time)
            sealTimes.append(try Bench.time { _ = try builder.seal(at: time) })
        }
        let state = builder.state.tnt
        var digestTimes: [Double] = []
        var sink = Hash256.zero
        for _ in 0..<max(3, min(50, 1_000_000 / max(count, 1))) {
            digestTimes.append(Bench.time { sink = state.digest() })
        }
        if sink == .zero { print("(unlikely zero digest)") }
        return (LedgerBenchmarks.median(sealTimes), LedgerBenchmarks.median(digestTimes))
    }
}

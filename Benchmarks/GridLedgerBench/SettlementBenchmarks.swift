import Foundation
import GatewayCore
import LedgerLite
import LedgerStore

/// The settlement export's cost depends on the window, not on the chain's length: the same
/// hour (four 15 min periods) of 100 meters reading every minute is exported from a chain
/// with 2 h of history before it and from one with 48 h, in the same run; beside each, what
/// reading every one of those meters' readings up to the window's end costs (what an export
/// that scanned history would pay).
enum SettlementBenchmarks {
    static let meters = 100
    static let start: Int64 = 1_782_000_000_000 - 1_782_000_000_000 % 86_400_000
    static let minute: Int64 = 60_000

    static func run() throws {
        let keys = (0..<meters).map { _ in SigningIdentity() }
        var results: [(hours: Int, entries: UInt64, export: Double, scan: Double)] = []
        for hours in [2, 48] {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("gridledger-settlement-bench-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (store, window) = try chain(keys: keys, hoursBefore: hours, at: directory)
            let queries = ChainQueries(store: store)
            let export = SettlementExport(queries: queries)
            var rows = 0
            let exportSeconds = try median(5) {
                rows = try export.write(window, format: .csv) { _ in }
            }
            precondition(rows == meters * window.periodCount, "\(rows) rows")
            let scanSeconds = try median(3) {
                for key in keys {
                    _ = try store.readings(meter: key.id, from: 0, until: window.until, limit: .max)
                }
            }
            results.append((hours, try store.entryCount(), exportSeconds, scanSeconds))
        }
        for r in results {
            Bench.report(
                "export 1 h × \(meters) meters, \(r.hours) h history (\(r.entries) entries)",
                value: r.export * 1000,
                unit: "ms",
                reference: ("scan of their readings", r.scan * 1000)
            )
        }
        Bench.report(
            "export at 48 h history ÷ at 2 h",
            value: results[1].export / results[0].export,
            unit: "×",
            reference: ("entries ×", Double(results[1].entries) / Double(results[0].entries)),
            target: "≤ 1.2"
        )
    }

    /// A sealed chain: the meters enrolled, then one reading a minute each for `hoursBefore`
    /// hours and the hour of the window; blocks of 5,000 entries.
    static func chain(
        keys: [SigningIdentity],
        hoursBefore: Int,
        at directory: String
    ) throws -> (ChainStore, SettlementWindow) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try ChainStore(path: directory + "/chain.sqlite", check: .none)
        let gateway = SigningIdentity()
        var builder = BlockBuilder(gateway: gateway, policy: SealPolicy(maxEntries: 5000, maxAgeMilliseconds: .max))
        var time = start
        for (i, key) in keys.enumerated() {
            let role: MeterRole = i % 2 == 0 ? .producer : .consumer
            let enrollment = Enrollment(meterKey: key.publicIdentity, role: role, timestamp: time)
            if let block = try builder.add(try SignedRecord.sign(.enrollment(enrollment), with: gateway), at: time) {
                try store.append(block)
            }
        }
        let minutes = (hoursBefore + 1) * 60
        for m in 1...minutes {
            time = start + Int64(m) * minute
            let signed = try keys.map { key in
                let values = [
                    MeasuredValue(.energyImportWh, Int64(m) * 5), MeasuredValue(.energyExportWh, Int64(m) * 3),
                    MeasuredValue(.activePowerW, 300),
                ]
                let reading = try Reading(meter: key.id, sequence: UInt64(m), timestamp: time, values: values)
                return try SignedRecord.sign(.reading(reading), with: key)
            }
            for entry in signed {
                if let block = try builder.add(signatureChecked: entry, at: time) { try store.append(block) }
            }
        }
        if let block = try builder.seal(at: time) { try store.append(block) }
        let windowStart = start + Int64(hoursBefore) * 3_600_000
        return (store, try SettlementWindow(from: windowStart, until: windowStart + 3_600_000))
    }

    /// The median wall time of `runs` calls of `body`, in seconds.
    static func median(_ runs: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<runs { times.append(try Bench.time(body)) }
        return times.sorted()[runs / 2]
    }
}

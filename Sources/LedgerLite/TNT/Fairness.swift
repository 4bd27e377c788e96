/// Fairness metrics of dispatch, for dashboards and audits. Pure functions of per-producer
/// values (TNT or dispatch counts, energy served in Wh) over a window. They are reports
/// computed from the chain, never part of it: the floating-point results are never signed.
///
/// Conventions for degenerate inputs: with no producers, or when every value is 0, all
/// producers are treated alike, so Jain's index is 1 and the Gini and Hoover indices are 0.
public enum Fairness {
    /// The spread of `values`: max − min (0 for no values). For TNT counts, how many more
    /// requests the busiest producer served than the least busy one.
    public static func spread(_ values: [UInt64]) -> UInt64 {
        guard let lo = values.min(), let hi = values.max() else { return 0 }
        return hi - lo
    }

    /// Jain's fairness index (Σx)² / (n·Σx²): 1 when all values are equal, 1/n when one
    /// producer has everything. 1 for no values or all zero.
    public static func jainIndex(_ values: [UInt64]) -> Double {
        let x = values.map { Double($0) }
        let sum = x.reduce(0, +)
        let squares = x.reduce(0) { $0 + $1 * $1 }
        guard !x.isEmpty, squares > 0 else { return 1 }
        return sum * sum / (Double(x.count) * squares)
    }

    /// The Gini coefficient Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n·Σx): 0 when all values are equal,
    /// (n − 1)/n when one producer has everything. 0 for no values or all zero.
    /// Computed in O(n log n) from the sorted values: Σᵢ (2i − n − 1)·x₍ᵢ₎ / (n·Σx), i from 1.
    public static func gini(_ values: [UInt64]) -> Double {
        let x = values.sorted().map { Double($0) }
        let n = Double(x.count)
        let sum = x.reduce(0, +)
        guard !x.isEmpty, sum > 0 else { return 0 }
        var weighted = 0.0
        for (i, v) in x.enumerated() {
            weighted += (2 * Double(i + 1) - n - 1) * v
        }
        return weighted / (n * sum)
    }

    /// The Hoover ("Robin Hood") index Σ|x − mean| / (2·Σx): the share of the total that
    /// would have to move from producers above the mean to those below it for all to be
    /// equal. 0 when all values are equal; (n − 1)/n when one producer has everything.
    /// 0 for no values or all zero.
    public static func hooverIndex(_ values: [UInt64]) -> Double {
        let x = values.map { Double($0) }
        let sum = x.reduce(0, +)
        guard !x.isEmpty, sum > 0 else { return 0 }
        let mean = sum / Double(x.count)
        return x.reduce(0) { $0 + abs($1 - mean) } / (2 * sum)
    }
}

/// What one producer did in a window of dispatches.
public struct ProducerWindowTotals: Hashable, Sendable {
    /// Dispatches it took part in (a share of a split counts as one, like TNT).
    public var dispatches: UInt64
    /// Energy it delivered, Wh.
    public var energyWh: UInt64

    /// Creates totals.
    public init(dispatches: UInt64 = 0, energyWh: UInt64 = 0) {
        self.dispatches = dispatches
        self.energyWh = energyWh
    }
}

/// Per-producer totals over a window of Dispatch records (for example the last hour's, read
/// from the chain), ready for the fairness metrics.
public struct FairnessWindow: Hashable, Sendable {
    /// Each producer's totals: every producer in the set given, plus any other producer the
    /// dispatches name.
    public private(set) var totals: [MeterID: ProducerWindowTotals]

    /// Adds up `dispatches`. Every producer in `producers` (typically the active ones)
    /// appears, with zeros if it served nothing, so idle producers count against fairness;
    /// a producer named by a dispatch but not in the set (revoked since) is counted too.
    /// Unserved dispatches add nothing.
    public init(dispatches: some Sequence<Dispatch>, producers: some Sequence<MeterID>) {
        var totals: [MeterID: ProducerWindowTotals] = [:]
        for p in producers { totals[p] = ProducerWindowTotals() }
        for d in dispatches {
            for share in d.outcome.shares {
                var t = totals[share.producer] ?? ProducerWindowTotals()
                t.dispatches += 1
                let (sum, overflow) = t.energyWh.addingReportingOverflow(share.energyWh)
                t.energyWh = overflow ? .max : sum
                totals[share.producer] = t
            }
        }
        self.totals = totals
    }

    /// The producers, ascending by id.
    public var producers: [MeterID] { totals.keys.sorted() }

    /// Dispatch counts, in `producers` order.
    public var dispatchCounts: [UInt64] { producers.map { totals[$0]?.dispatches ?? 0 } }

    /// Energy served (Wh), in `producers` order.
    public var energyServedWh: [UInt64] { producers.map { totals[$0]?.energyWh ?? 0 } }

    /// The fairness metrics of this window.
    public var report: FairnessReport {
        FairnessReport(dispatchCounts: dispatchCounts, energyServedWh: energyServedWh)
    }
}

/// The fairness metrics of one set of producers.
public struct FairnessReport: Hashable, Sendable {
    /// Number of producers measured.
    public var producerCount: Int
    /// Max − min of the dispatch (or TNT) counts.
    public var countSpread: UInt64
    /// Jain's index of the dispatch (or TNT) counts.
    public var countJain: Double
    /// Jain's index of the energy served.
    public var energyJain: Double
    /// Gini coefficient of the energy served.
    public var energyGini: Double
    /// Hoover (Robin Hood) index of the energy served.
    public var energyHoover: Double

    /// Computes the metrics from per-producer counts and energies (the same producers in
    /// the same order in both arrays).
    public init(dispatchCounts: [UInt64], energyServedWh: [UInt64]) {
        producerCount = dispatchCounts.count
        countSpread = Fairness.spread(dispatchCounts)
        countJain = Fairness.jainIndex(dispatchCounts)
        energyJain = Fairness.jainIndex(energyServedWh)
        energyGini = Fairness.gini(energyServedWh)
        energyHoover = Fairness.hooverIndex(energyServedWh)
    }

    /// The metrics of a TNT table since the chain began: TNT counts and energy served of
    /// the rows given (for example `state.producerTable().filter(\.status.active)`).
    public init(table: [ProducerRow]) {
        self.init(dispatchCounts: table.map(\.status.tnt), energyServedWh: table.map(\.status.servedWh))
    }
}

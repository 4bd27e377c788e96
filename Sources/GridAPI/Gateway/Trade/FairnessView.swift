/// Fairness of dispatch over a time window (see `FairnessQuery`).
package struct FairnessView: Codable, Sendable {
    /// Window start (ms, inclusive); nil: since the chain began.
    package var from: Int64?
    /// Window end (ms, exclusive); nil: up to now, pending entries included.
    package var until: Int64?
    package var fromTime: String?
    package var untilTime: String?
    /// Dispatch entries in the window, and how many of them were served (alone or split)
    /// and unserved.
    package var dispatches: Int
    package var served: Int
    package var unserved: Int
    /// Producers the measures are over: those active at the window's end.
    package var producerCount: Int
    /// Max − min of their dispatch counts in the window.
    package var dispatchSpread: UInt64
    /// Max − min of their TNT now (active producers now, pending entries included).
    package var currentTNTSpread: UInt64
    /// Jain's index (Σx)² / (n·Σx²) of energy served in the window.
    package var energyJain: Double
    /// Gini coefficient Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n·Σx) of energy served in the window.
    package var energyGini: Double
    /// Robin Hood (Hoover) index Σ|x − mean| / (2·Σx) of energy served in the window.
    package var energyHoover: Double
    /// Every producer active at the window's end, and any other that served in it, by id.
    package var producers: [FairnessRowView]

    package init(
        from: Int64? = nil,
        until: Int64? = nil,
        fromTime: String? = nil,
        untilTime: String? = nil,
        dispatches: Int,
        served: Int,
        unserved: Int,
        producerCount: Int,
        dispatchSpread: UInt64,
        currentTNTSpread: UInt64,
        energyJain: Double,
        energyGini: Double,
        energyHoover: Double,
        producers: [FairnessRowView]
    ) {
        self.from = from
        self.until = until
        self.fromTime = fromTime
        self.untilTime = untilTime
        self.dispatches = dispatches
        self.served = served
        self.unserved = unserved
        self.producerCount = producerCount
        self.dispatchSpread = dispatchSpread
        self.currentTNTSpread = currentTNTSpread
        self.energyJain = energyJain
        self.energyGini = energyGini
        self.energyHoover = energyHoover
        self.producers = producers
    }
}

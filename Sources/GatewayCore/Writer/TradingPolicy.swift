import LedgerLite

/// How requests are dispatched and how far offers may exceed metered export.
package struct TradingPolicy: Sendable, Hashable {
    package var policy: DispatchPolicy = .lowestTNT
    package var offerToleranceWh: UInt64 = 0
}

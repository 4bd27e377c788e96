import LedgerLite

/// Which of a meter's trade record streams (offers or requests).
package struct TradeKey: Hashable, Sendable {
    package var meter: MeterID
    package var type: RecordType
}

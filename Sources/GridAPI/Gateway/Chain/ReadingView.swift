import LedgerLite

package struct ReadingView: Codable, Sendable {
    package var meter: String
    package var sequence: UInt64
    package var timestamp: Int64
    package var time: String
    package var tamper: Bool
    package var error: Bool
    package var values: [String: Int64]

    package init(_ r: Reading) {
        meter = r.meter.hex
        sequence = r.sequence
        timestamp = r.timestamp
        time = isoTime(r.timestamp)
        tamper = r.status.contains(.tamper)
        error = r.status.contains(.error)
        values = Dictionary(uniqueKeysWithValues: r.values.map { ($0.measurand.description, $0.value) })
    }
}

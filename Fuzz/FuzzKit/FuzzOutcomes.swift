/// How many inputs ended how: `"reading rejected:timestamp-skew" → 1234`.
package struct FuzzOutcomes: Sendable {
    package private(set) var counts: [String: Int] = [:]
    package private(set) var inputs = 0

    package init() {}

    package mutating func record(_ outcome: String) {
        counts[outcome, default: 0] += 1
        inputs += 1
    }

    /// One line per outcome, most frequent first.
    package var lines: [String] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\(String($0.value).leftPadded(to: 9))  \($0.key)" }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

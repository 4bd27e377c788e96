/// How many inputs ended how: `"reading rejected:timestamp-skew" → 1234`.
package struct FuzzOutcomes: Sendable {
    package private(set) var counts: [String: Int] = [:]
    package private(set) var inputs = 0

    package init() {}

    /// One input, and how it ended.
    package mutating func record(_ outcome: String) {
        counts[outcome, default: 0] += 1
        inputs += 1
    }

    /// Something that happened within an input already recorded (a block of a push, say).
    package mutating func tally(_ outcome: String, by count: Int = 1) {
        counts[outcome, default: 0] += count
    }

    /// How often `outcome` happened.
    package subscript(_ outcome: String) -> Int { counts[outcome, default: 0] }

    /// The outcomes that name a reason (`…:reason`).
    package var reasons: Set<String> { Set(counts.keys.filter { $0.contains(":") }) }

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

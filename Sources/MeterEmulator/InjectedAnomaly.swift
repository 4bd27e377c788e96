import ArgumentParser
import OperatorKit

/// A misbehaviour an emulated meter shows on request, for testing what detects it.
package struct InjectedAnomaly: Hashable, Sendable, CustomStringConvertible, ExpressibleByArgument {
    package enum Kind: String, CaseIterable, Sendable {
        /// The meter's tamper flag goes up (profiles with a `tamper` measurand).
        case tamper
        /// The import energy counter jumps back (by 10 % or at least 1 kWh).
        case rollback
        /// Voltages drop to 70 % for two simulated minutes.
        case sag
        /// Every register freezes at its value.
        case stuck
    }

    package let kind: Kind
    /// Simulated seconds after the start at which it begins.
    package let offset: Int64

    package init(kind: Kind, offset: Int64) {
        self.kind = kind
        self.offset = offset
    }

    /// `KIND` or `KIND@OFFSET`, e.g. `rollback@10m`, `sag@30s`.
    package init?(argument: String) {
        let parts = argument.split(separator: "@", maxSplits: 1).map(String.init)
        guard let kind = Kind(rawValue: parts[0].lowercased()) else { return nil }
        var offset: Int64 = 0
        if parts.count == 2 {
            guard let duration = DurationArgument(argument: parts[1]) else { return nil }
            offset = duration.duration.components.seconds
        }
        self.init(kind: kind, offset: offset)
    }

    package var description: String { "\(kind.rawValue)@\(offset)s" }

    package static var allValueStrings: [String] { Kind.allCases.map(\.rawValue) }
}

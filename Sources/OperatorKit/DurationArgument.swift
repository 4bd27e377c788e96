import ArgumentParser

/// A duration written as `500ms`, `1s`, `1.5s`, `10m`, `2h` or `1d`.
public struct DurationArgument: ExpressibleByArgument, Hashable, CustomStringConvertible {
    public let duration: Duration
    public let text: String

    public init?(argument: String) {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, seconds) in units where argument.hasSuffix(suffix) {
            let number = argument.dropLast(suffix.count)
            // "ms" also ends in "s": only accept a plain number before the suffix.
            guard let value = Double(number), value >= 0, value.isFinite else { continue }
            duration = .milliseconds(Int64((value * seconds * 1000).rounded()))
            text = argument
            return
        }
        return nil
    }

    public init(_ duration: Duration, text: String) {
        self.duration = duration
        self.text = text
    }

    public var description: String { text }

    public static var defaultCompletionKind: CompletionKind { .default }
}

extension Duration {
    /// Milliseconds, as a Double.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

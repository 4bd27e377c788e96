import Foundation

/// A plain timing harness: every figure is printed beside a reference measured in the
/// same run, so a shared, noisy machine shifts both and the ratio stays meaningful.
enum Bench {
    /// Runs `body` repeatedly for at least `minimum` and returns operations per second,
    /// where one call of `body` performs `operations` operations.
    static func rate(
        operations: Int = 1,
        minimum: Duration = .milliseconds(500),
        _ body: () throws -> Void
    ) rethrows -> Double {
        let clock = ContinuousClock()
        var calls = 0
        let start = clock.now
        var elapsed = Duration.zero
        repeat {
            try body()
            calls += 1
            elapsed = clock.now - start
        } while elapsed < minimum
        return Double(calls * operations) / elapsed.seconds
    }

    /// Async variant of `rate`.
    static func rate(
        operations: Int = 1,
        minimum: Duration = .milliseconds(500),
        _ body: () async throws -> Void
    ) async rethrows -> Double {
        let clock = ContinuousClock()
        var calls = 0
        let start = clock.now
        var elapsed = Duration.zero
        repeat {
            try await body()
            calls += 1
            elapsed = clock.now - start
        } while elapsed < minimum
        return Double(calls * operations) / elapsed.seconds
    }

    /// Wall time of one call of `body`, in seconds.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        return (clock.now - start).seconds
    }

    /// Wall time of one call of an async `body`, in seconds.
    static func timeAsync(_ body: () async throws -> Void) async rethrows -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        return (clock.now - start).seconds
    }

    /// Prints one result line: the figure, its reference, their ratio and the target.
    static func report(
        _ name: String,
        value: Double,
        unit: String,
        reference: (name: String, value: Double)? = nil,
        target: String? = nil
    ) {
        var line = "\(name.padding(toLength: 64, withPad: " ", startingAt: 0)) \(format(value)) \(unit)"
        if let reference {
            let ratio = reference.value == 0 ? 0 : value / reference.value
            line += "   | \(reference.name): \(format(reference.value)) \(unit)  ratio \(String(format: "%.2f", ratio))"
        }
        if let target { line += "   [target \(target)]" }
        print(line)
    }

    static func format(_ value: Double) -> String {
        if value >= 100 { return String(format: "%.0f", value) }
        if value >= 1 { return String(format: "%.2f", value) }
        return String(format: "%.4f", value)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

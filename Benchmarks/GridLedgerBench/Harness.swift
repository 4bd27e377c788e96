import Foundation
import LedgerLite

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

    /// Raw Ed25519 verifications per second, `threads` threads verifying at once: the reference
    /// of every figure bounded by signature checks.
    static func ed25519VerificationsPerSecond(threads: Int, perThread: Int = 12_000) throws -> Double {
        let identity = SigningIdentity()
        let message = [UInt8](repeating: 0x42, count: 120)
        let signature = try identity.sign(message)
        let key = identity.publicIdentity
        let clock = ContinuousClock()
        let started = clock.now
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<perThread where !key.isValidSignature(signature, for: message) {
                fatalError("a valid signature did not verify")
            }
        }
        return Double(perThread * threads) / (clock.now - started).seconds
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

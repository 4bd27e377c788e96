import Executors
import Foundation

/// Runs blocking store reads (the GET endpoints) on a thread of its own.
package actor BlockingReader {
    private let executor: DedicatedThreadExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    package init(name: String) {
        executor = DedicatedThreadExecutor(name: name)
    }

    package func run<T: Sendable>(_ body: @Sendable () throws -> T) throws -> T {
        try body()
    }

    package nonisolated func shutdown() { executor.shutdown() }
}

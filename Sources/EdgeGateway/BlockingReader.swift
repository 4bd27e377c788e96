import Executors
import Foundation

/// Runs blocking store reads (the GET endpoints) on a thread of its own.
actor BlockingReader {
    private let executor: DedicatedThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(name: String) {
        executor = DedicatedThreadExecutor(name: name)
    }

    func run<T: Sendable>(_ body: @Sendable () throws -> T) throws -> T {
        try body()
    }

    nonisolated func shutdown() { executor.shutdown() }
}

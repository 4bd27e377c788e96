import Executors
import Foundation

/// Runs blocking SQLite work on a thread of its own, so it never holds a thread of the
/// cooperative pool: the HTTP API's reads, and the uplink's reads and checkpoint writes.
package actor StoreThread {
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

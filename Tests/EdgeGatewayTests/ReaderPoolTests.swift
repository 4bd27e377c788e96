import Foundation
import Synchronization
import TestSupport
import Testing

@testable import GatewayCore

/// Issue 13, point 5: one slow query holds one reader thread, not the API, and the queue
/// behind the threads is bounded.
@Suite("Reader pool")
struct ReaderPoolTests {
    /// A read that blocks its thread until `release()`.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        let entered = Atomic<Int>(0)
        func block() {
            entered.add(1, ordering: .sequentiallyConsistent)
            semaphore.wait()
        }
        func release(_ count: Int) { for _ in 0..<count { semaphore.signal() } }
    }

    @Test func aSlowReadDoesNotHoldUpTheOthers() async throws {
        let pool = ReaderPool(name: "test-reader", threads: 2, maxWaiting: 8)
        defer { pool.shutdown() }
        let gate = Gate()
        let slow = Task { try await pool.run { gate.block() } }
        // Patience, not a bound: the task must first get a cooperative thread, which in the
        // full second test process (over 400 tests on two cores) took longer than 20 s once;
        // nothing in the pool is waited for here.
        try await waitUntil("the slow read holds a thread", timeout: .seconds(120)) {
            gate.entered.load(ordering: .sequentiallyConsistent) == 1
        }
        // The slow read still holds its thread, and reads keep being answered on the other.
        for i in 0..<20 { #expect(try await pool.run { i * 2 } == i * 2) }
        gate.release(1)
        try await slow.value
    }

    @Test func readsBeyondTheQueueAreRefusedAtOnce() async throws {
        let pool = ReaderPool(name: "test-reader", threads: 1, maxWaiting: 2)
        defer { pool.shutdown() }
        let gate = Gate()
        let holder = Task { try await pool.run { gate.block() } }
        try await waitUntil("the thread is held", timeout: .seconds(120)) {
            gate.entered.load(ordering: .sequentiallyConsistent) == 1
        }
        let waiting = (0..<2).map { i in Task { try await pool.run { i } } }
        try await waitUntil("two reads wait") { pool.waitingCount == 2 }
        await #expect(throws: ReaderPool.Busy(waiting: 2)) { try await pool.run { 0 } }
        gate.release(1)
        try await holder.value
        #expect(try await waiting[0].value == 0)
        #expect(try await waiting[1].value == 1)
        #expect(pool.waitingCount == 0)
        #expect(try await pool.run { 7 } == 7)  // the queue is open again
    }

    @Test func aReadThatThrowsFreesItsThread() async throws {
        struct Failure: Error {}
        let pool = ReaderPool(name: "test-reader", threads: 1, maxWaiting: 0)
        defer { pool.shutdown() }
        for _ in 0..<3 {
            await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
        }
        #expect(try await pool.run { 1 } == 1)
    }
}

import Synchronization

/// A few threads that run the HTTP API's blocking reads of the chain store, so that one slow
/// query holds one thread rather than the whole API. The store is SQLite in WAL mode through a
/// GRDB `DatabasePool`: readers wait neither for the writer nor for each other.
///
/// Reads beyond the threads wait their turn in arrival order; once `maxWaiting` wait, the
/// next is refused at once (`ReaderPool.Busy`) instead of joining a queue that only grows, so
/// a flood of expensive queries delays others by a bounded amount and its excess is told to
/// come back later.
package final class ReaderPool: Sendable {
    /// Every thread is busy and `maxWaiting` reads already wait.
    package struct Busy: Error, Equatable {
        package let waiting: Int
    }

    private struct State {
        var free: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    private let threads: [StoreThread]
    private let state: Mutex<State>
    /// How many reads may wait for a thread before the next is refused.
    package let maxWaiting: Int

    /// - Parameters:
    ///   - name: the threads' name prefix (`chain-reader-1`, …).
    ///   - threads: how many reads run at once (at least 1; keep it below GRDB's
    ///     `maximumReaderCount`, 5 by default, or reads wait inside GRDB instead).
    ///   - maxWaiting: how many may wait for a thread.
    package init(name: String, threads: Int = 4, maxWaiting: Int = 64) {
        let count = max(1, threads)
        self.threads = (1...count).map { StoreThread(name: "\(name)-\($0)") }
        state = Mutex(State(free: Array((0..<count).reversed())))
        self.maxWaiting = max(0, maxWaiting)
    }

    /// Runs `body` on a free thread, waiting for one if none is.
    /// - Throws: `Busy` when `maxWaiting` reads already wait, or what `body` throws.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        return try await threads[index].run(body)
    }

    /// How many reads wait for a thread now.
    package var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Stops the threads once their current work is done.
    package func shutdown() {
        for thread in threads { thread.shutdown() }
    }

    private func acquire() async throws(Busy) -> Int {
        enum Grant {
            case thread(Int)
            case wait
            case refuse(Int)
        }
        let grant = state.withLock { s -> Grant in
            if let index = s.free.popLast() { return .thread(index) }
            return s.waiters.count < maxWaiting ? .wait : .refuse(s.waiters.count)
        }
        switch grant {
        case let .thread(index): return index
        case let .refuse(waiting): throw Busy(waiting: waiting)
        case .wait:
            return await withCheckedContinuation { continuation in
                let granted = state.withLock { s -> Int? in
                    // A thread may have been released between the check above and now.
                    if let index = s.free.popLast() { return index }
                    s.waiters.append(continuation)
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        }
    }

    private func release(_ index: Int) {
        let next = state.withLock { s -> CheckedContinuation<Int, Never>? in
            guard !s.waiters.isEmpty else {
                s.free.append(index)
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume(returning: index)
    }
}

import Foundation
import LedgerLite
import LedgerStore
import Logging
import Synchronization

/// Appends sealed blocks to the chain store, in order, on a thread of its own, then trims
/// the pending journal below them.
///
/// Acknowledgements never wait for this: every entry of a block is already in the pending
/// journal when the block is sealed. Keeping the store's inserts and fsyncs off the chain
/// writer lets it check the next readings meanwhile. The writer learns what is archived
/// from `archivedTreeSize` (it keeps entries in memory until then) and, after a failed
/// append, from `failure`: the archiver then drops every queued block until `resume`, and
/// the writer resumes from the store and the journal, which still hold everything.
package final class BlockArchiver: Sendable {
    private struct State {
        var queue: [Block] = []
        var archivedTreeSize: UInt64
        var failure: String?
        var busy = false
        var started = false
        var stopped = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
        var drainWaiters: [DispatchSemaphore] = []
    }

    private let state: Mutex<State>
    private let wakeUp = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private let store: ChainStore
    private let journal: PendingJournal
    private let metrics: GatewayMetrics
    private let logger: Logger
    /// The height of each block once it is in the store, for whoever follows the store.
    package let storedHeights: StoredHeights

    /// An archiver of a store that holds `treeSize` entries and blocks up to `storedHeight`;
    /// its thread starts with the first block submitted.
    package init(
        store: ChainStore,
        journal: PendingJournal,
        treeSize: UInt64,
        storedHeight: UInt64?,
        metrics: GatewayMetrics,
        logger: Logger
    ) {
        self.store = store
        self.journal = journal
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(archivedTreeSize: treeSize))
        storedHeights = StoredHeights(latest: storedHeight)
    }

    /// Entries below this index are in the store.
    package var archivedTreeSize: UInt64 { state.withLock { $0.archivedTreeSize } }

    /// Why the last append failed, until `resume`.
    package var failure: String? { state.withLock { $0.failure } }

    /// Queues a sealed block (never blocks).
    package func submit(_ block: Block) {
        let start = state.withLock { s -> Bool in
            s.queue.append(block)
            guard !s.started else { return false }
            s.started = true
            return true
        }
        if start {
            let thread = Thread { [self] in run() }
            thread.name = "block-archiver"
            thread.start()
        }
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
    }

    /// Returns once every queued block is appended (or dropped after a failure).
    package func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if s.queue.isEmpty && !s.busy { return true }
                s.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Blocks the calling thread until nothing is queued or being appended. For the
    /// writer's own thread before it reloads the store (never call it from the pool).
    package func drain() {
        let done = DispatchSemaphore(value: 0)
        let idle = state.withLock { s -> Bool in
            if s.queue.isEmpty && !s.busy { return true }
            s.drainWaiters.append(done)
            return false
        }
        if !idle { done.wait() }
    }

    /// Clears a failure once the writer has resumed from a store of `treeSize` entries;
    /// anything still queued was sealed before the resume and is dropped.
    package func resume(treeSize: UInt64) {
        state.withLock {
            $0.failure = nil
            $0.queue.removeAll()
            $0.archivedTreeSize = treeSize
        }
    }

    /// Appends what is queued, stops the thread, and returns once it has (blocking: the
    /// store must not be opened again while a block is still being written).
    package func shutdown() {
        let started = state.withLock { s -> Bool in
            s.stopped = true
            return s.started
        }
        if !started {
            // Nothing was ever submitted: no thread to wait for.
            storedHeights.finish()
            finished.signal()
        }
        wakeUp.lock()
        wakeUp.signal()
        wakeUp.unlock()
        finished.wait()
        finished.signal()  // a second shutdown returns at once
    }

    private func run() {
        while let block = next() {
            archive(block)
        }
        storedHeights.finish()
        finished.signal()
    }

    /// The next block to append, waiting for one; nil once stopped and drained.
    private func next() -> Block? {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let (block, stop, waiters, drained) = state.withLock {
                s -> (Block?, Bool, [CheckedContinuation<Void, Never>], [DispatchSemaphore]) in
                if s.failure != nil { s.queue.removeAll() }
                if !s.queue.isEmpty {
                    s.busy = true
                    return (s.queue.removeFirst(), false, [], [])
                }
                s.busy = false
                defer {
                    s.idleWaiters.removeAll()
                    s.drainWaiters.removeAll()
                }
                return (nil, s.stopped, s.idleWaiters, s.drainWaiters)
            }
            for waiter in waiters { waiter.resume() }
            for semaphore in drained { semaphore.signal() }
            if let block { return block }
            if stop { return nil }
            wakeUp.wait()
        }
    }

    private func archive(_ block: Block) {
        let treeSize = block.header.header.treeSize
        do {
            try store.append(block)
        } catch {
            logger.error(
                "cannot append the sealed block; the writer resumes from the store and the pending journal",
                metadata: [
                    "block.height": "\(block.height)", "error": "\(error)",
                ]
            )
            state.withLock { $0.failure = "\(error)" }
            return
        }
        metrics.blocksSealed.increment()
        metrics.entriesSealed.increment(by: Int64(block.entries.count))
        logger.info(
            "sealed block",
            metadata: [
                "block.height": "\(block.height)", "entries": "\(block.entries.count)",
                "block.hash": "\(block.hash.hex)",
            ]
        )
        do { try journal.removeEntries(below: treeSize) } catch {
            logger.warning(
                "cannot trim the pending journal (its sealed rows are skipped at start-up)",
                metadata: ["error": "\(error)"]
            )
        }
        state.withLock { $0.archivedTreeSize = max($0.archivedTreeSize, treeSize) }
        storedHeights.publish(block.height)
    }
}

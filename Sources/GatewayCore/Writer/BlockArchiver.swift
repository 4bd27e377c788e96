import Foundation
import LedgerLite
import LedgerStore
import Logging
import Synchronization

/// Appends sealed blocks to the chain store, in order, on a thread of its own, then trims
/// the pending journal below them. Each outcome goes out on `events` (to the chain writer,
/// which keeps a block's entries pending until it is stored) and `storedHeights` (to the
/// uplink).
///
/// Acknowledgements never wait for this: every entry of a block is already in the pending
/// journal when the block is sealed. Keeping the store's inserts and fsyncs off the chain
/// writer lets it check the next readings meanwhile. After a failed append the archiver
/// drops every block it is given until `resume`: the writer then resumes from the store and
/// the journal, which still hold everything.
///
/// Its input is a queue served by a plain thread, not a stream read by a task: `shutdown()`
/// blocks until the last block is written, and is called from synchronous code that may hold
/// a thread of the cooperative pool, so the archiver's progress must never need the pool.
package final class BlockArchiver: Sendable {
    /// What became of a submitted block, in submission order.
    package enum Event: Sendable {
        /// Entries below `treeSize` are in the store.
        case stored(treeSize: UInt64)
        /// An append failed; blocks are dropped until `resume()` starts the next generation.
        case failed(generation: UInt64, reason: String)
    }

    private struct State {
        var queue: [Block] = []
        var failure: String?
        var generation: UInt64 = 0
        var busy = false
        var started = false
        var stopped = false
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
    /// Each submitted block's outcome, for the chain writer (one consumer); it ends with
    /// `shutdown()`.
    package let events: AsyncStream<Event>
    private let eventOutput: AsyncStream<Event>.Continuation

    /// An archiver of a store that holds blocks up to `storedHeight`; its thread starts with
    /// the first block submitted.
    package init(
        store: ChainStore,
        journal: PendingJournal,
        storedHeight: UInt64?,
        metrics: GatewayMetrics,
        logger: Logger
    ) {
        self.store = store
        self.journal = journal
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State())
        storedHeights = StoredHeights(latest: storedHeight)
        (events, eventOutput) = AsyncStream.makeStream(of: Event.self)
    }

    /// Why the last append failed, until `resume`.
    package var failure: String? { state.withLock { $0.failure } }

    /// The generation `resume()` last started; failures reported in earlier ones are stale.
    package var generation: UInt64 { state.withLock { $0.generation } }

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

    /// Clears a failure once the writer has resumed from the store and the journal; anything
    /// still queued was sealed before the resume and is dropped.
    package func resume() {
        state.withLock {
            $0.failure = nil
            $0.generation += 1
            $0.queue.removeAll()
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
            eventOutput.finish()
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
        eventOutput.finish()
        finished.signal()
    }

    /// The next block to append, waiting for one; nil once stopped and drained.
    private func next() -> Block? {
        wakeUp.lock()
        defer { wakeUp.unlock() }
        while true {
            let (block, stop, drained) = state.withLock { s -> (Block?, Bool, [DispatchSemaphore]) in
                if s.failure != nil { s.queue.removeAll() }
                if !s.queue.isEmpty {
                    s.busy = true
                    return (s.queue.removeFirst(), false, [])
                }
                s.busy = false
                defer { s.drainWaiters.removeAll() }
                return (nil, s.stopped, s.drainWaiters)
            }
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
            let generation = state.withLock { s -> UInt64 in
                s.failure = "\(error)"
                return s.generation
            }
            eventOutput.yield(.failed(generation: generation, reason: "\(error)"))
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
        eventOutput.yield(.stored(treeSize: treeSize))
        storedHeights.publish(block.height)
    }
}

import Executors
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
/// Its thread is a `DedicatedThreadExecutor` fed with plain closures (`execute`), not tasks:
/// `shutdown()` blocks until the last block is written and is called from synchronous code
/// that may hold a thread of the cooperative pool, so the archiver's progress must never
/// need the pool.
package final class BlockArchiver: Sendable {
    /// What became of a submitted block, in submission order.
    package enum Event: Sendable {
        /// Entries below `treeSize` are in the store.
        case stored(treeSize: UInt64)
        /// An append failed; blocks are dropped until `resume()` starts the next generation.
        case failed(generation: UInt64, reason: String)
    }

    private struct State {
        /// Submitted blocks not yet appended or dropped.
        var outstanding = 0
        var failure: String?
        var generation: UInt64 = 0
        var stopped = false
        var drainWaiters: [DispatchSemaphore] = []
    }

    private let state = Mutex(State())
    /// The chain writer's memory of the stored entries, moved on with each block appended
    /// (only on the archiver's thread, or by `resume` once drained), for resume snapshots.
    private let memory: Mutex<ResumeMemory>
    private let thread = DedicatedThreadExecutor(name: "block-archiver")
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
        memory: ResumeMemory,
        metrics: GatewayMetrics,
        logger: Logger
    ) {
        self.memory = Mutex(memory)
        self.store = store
        self.journal = journal
        self.metrics = metrics
        self.logger = logger
        storedHeights = StoredHeights(latest: storedHeight)
        (events, eventOutput) = AsyncStream.makeStream(of: Event.self)
    }

    /// Why the last append failed, until `resume`.
    package var failure: String? { state.withLock { $0.failure } }

    /// The generation `resume()` last started; failures reported in earlier ones are stale.
    package var generation: UInt64 { state.withLock { $0.generation } }

    /// Queues a sealed block (never blocks). After `shutdown()` it is not archived: its
    /// entries stay in the journal, and the next start-up seals them.
    package func submit(_ block: SealedBlock) {
        let accepted = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.outstanding += 1
            return true
        }
        guard accepted else { return }
        thread.execute { [self] in
            if failure == nil { archive(block) }
            finishedOne()
        }
    }

    /// Blocks the calling thread until nothing is queued or being appended. For the
    /// writer's own thread before it reloads the store (never call it from the pool).
    package func drain() {
        let done = DispatchSemaphore(value: 0)
        let idle = state.withLock { s -> Bool in
            if s.outstanding == 0 { return true }
            s.drainWaiters.append(done)
            return false
        }
        if !idle { done.wait() }
    }

    /// Clears a failure once the writer has resumed from the store and the journal (after
    /// `drain()`, so nothing sealed before the resume is still queued); `memory` is the
    /// writer's memory of what the store now holds.
    package func resume(memory: ResumeMemory) {
        self.memory.withLock { $0 = memory }
        state.withLock {
            $0.failure = nil
            $0.generation += 1
        }
    }

    /// Appends what is queued, ends `events` and `storedHeights`, and returns once the thread
    /// has stopped (blocking: the store must not be opened again while a block is still being
    /// written). A second call returns at once.
    package func shutdown() {
        let first = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if first {
            thread.execute { [self] in
                storedHeights.finish()
                eventOutput.finish()
            }
        }
        thread.shutdownAndWait()
    }

    private func finishedOne() {
        let drained = state.withLock { s -> [DispatchSemaphore] in
            s.outstanding -= 1
            guard s.outstanding == 0 else { return [] }
            defer { s.drainWaiters.removeAll() }
            return s.drainWaiters
        }
        for semaphore in drained { semaphore.signal() }
    }

    private func archive(_ sealed: SealedBlock) {
        let block = sealed.block
        let treeSize = block.header.header.treeSize
        do {
            // After a failed append the memory is replaced (`resume`) before the next block.
            let snapshot = memory.withLock { m -> ResumeMemory? in
                for entry in block.entries { m.note(entry) }
                return sealed.chain == nil ? nil : m
            }
            let bytes = sealed.chain.flatMap { chain in
                snapshot.map { ResumeSnapshot(chain: chain, memory: $0).encoded() }
            }
            try store.append(block, snapshot: bytes)
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

import Foundation

/// A serial executor backed by one dedicated thread.
///
/// Blocking work (libmodbus calls that wait up to a response timeout, SQLite writes that
/// wait for fsync) must not occupy Swift's cooperative pool, which has one thread per
/// core. An actor that returns this executor as its `unownedExecutor` runs every job on
/// the one thread, so its blocking calls stall only that thread, and a C handle it owns is
/// only ever touched by that thread. Synchronous code can hand it work with `execute`, which
/// never needs the pool to make progress.
public final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }

    private let condition = NSCondition()
    private var queue: [Work] = []
    private var head = 0
    private var isShutDown = false
    private var isStarted = false
    private var isFinished = false
    private let name: String

    /// An executor whose thread starts with the first job; `name` shows in debuggers and
    /// `top -H`.
    public init(name: String) {
        self.name = name
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        add(.job(UnownedJob(job)))
    }

    /// Runs `body` on the thread, after the work already queued (never blocks the caller).
    public func execute(_ body: @escaping @Sendable () -> Void) {
        add(.closure(body))
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish once the queued jobs have run.
    public func shutdown() {
        condition.lock()
        isShutDown = true
        condition.broadcast()
        condition.unlock()
    }

    /// `shutdown()`, then blocks until the queued work has run and the thread has ended (at
    /// once if it never started). Never call it from the executor's own thread.
    public func shutdownAndWait() {
        condition.lock()
        isShutDown = true
        condition.broadcast()
        while isStarted && !isFinished { condition.wait() }
        condition.unlock()
    }

    private func add(_ work: Work) {
        condition.lock()
        queue.append(work)
        if !isStarted {
            isStarted = true
            let thread = Thread { [self] in runLoop() }
            thread.name = name
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    private func runLoop() {
        while let work = next() {
            switch work {
            case let .job(job): job.runSynchronously(on: asUnownedSerialExecutor())
            case let .closure(body): body()
            }
        }
        condition.lock()
        isFinished = true
        condition.broadcast()
        condition.unlock()
    }

    private func next() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count {
            if isShutDown { return nil }
            condition.wait()
        }
        let work = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        }
        return work
    }
}

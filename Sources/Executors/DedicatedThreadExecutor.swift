import Foundation

/// A serial executor backed by one dedicated thread.
///
/// Blocking work (libmodbus calls that wait up to a response timeout, SQLite writes that
/// wait for fsync) must not occupy Swift's cooperative pool, which has one thread per
/// core. An actor that returns this executor as its `unownedExecutor` runs every job on
/// the one thread, so its blocking calls stall only that thread, and a C handle it owns is
/// only ever touched by that thread.
public final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0
    private var isShutDown = false
    private var isStarted = false
    private let name: String

    /// An executor whose thread starts with the first job; `name` shows in debuggers and
    /// `top -H`.
    public init(name: String) {
        self.name = name
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        if !isStarted {
            isStarted = true
            let thread = Thread { [self] in runLoop() }
            thread.name = name
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish once the queued jobs have run.
    public func shutdown() {
        condition.lock()
        isShutDown = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        while let job = nextJob() {
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }

    private func nextJob() -> UnownedJob? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count {
            if isShutDown { return nil }
            condition.wait()
        }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        return job
    }
}

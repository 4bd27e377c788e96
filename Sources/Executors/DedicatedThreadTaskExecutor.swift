/// A task executor backed by one dedicated thread: a task started with it as its preference
/// (`Task(executorPreference:)`) runs its non-isolated code there, never on Swift's
/// cooperative pool. For synchronous code that must wait for async work: a server thread
/// that blocks until a task has finished cannot rely on the pool, whose two threads (one per
/// core) may be the very ones waiting.
public final class DedicatedThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    private let thread: DedicatedThreadExecutor

    /// An executor whose thread starts with the first job.
    public init(name: String) {
        thread = DedicatedThreadExecutor(name: name)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        thread.execute { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    /// Lets the thread finish once the queued jobs have run.
    public func shutdown() {
        thread.shutdown()
    }
}

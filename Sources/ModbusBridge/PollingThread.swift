import Foundation
import Glibc

/// A thread that polls descriptors until stopped, woken early by a pipe.
final class PollingThread: @unchecked Sendable {
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false
    private var thread: Thread?

    init() throws(ModbusError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw ModbusError.fromErrno(errno, operation: "create wake pipe") }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        _ = fcntl(wakeRead, F_SETFL, fcntl(wakeRead, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// True once `stop()` was called.
    var isStopping: Bool { lock.withLock { stopping } }

    /// The descriptor to include in every poll: readable when the thread should stop.
    var wakeDescriptor: Int32 { wakeRead }

    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [finished] in
            body()
            finished.signal()
        }
        thread.name = name
        lock.withLock { self.thread = thread }
        thread.start()
    }

    /// Asks the thread to stop and waits for it.
    func stop() {
        let running = lock.withLock {
            defer { stopping = true }
            return thread != nil && !stopping
        }
        guard running else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        finished.wait()
    }
}

import Foundation
import Glibc
import Logging

/// Options shared by the RTU and TCP servers.
public struct ServerOptions: Sendable {
    /// Faults injected into answers (none by default).
    public var faults: FaultInjection
    /// RTU only: hold each answer until the request, the 3.5-character frame gap and the
    /// answer would have crossed a real wire at the line's baud rate.
    public var wireTiming: Bool
    public var logger: Logger

    public init(
        faults: FaultInjection = .none,
        wireTiming: Bool = false,
        logger: Logger = Logger(label: "modbus.server")
    ) {
        self.faults = faults
        self.wireTiming = wireTiming
        self.logger = logger
    }
}

/// What a server has seen and done.
public struct ServerStatistics: Sendable, Hashable {
    /// Requests addressed to a served unit.
    public var requests = 0
    /// Answers sent (faulty ones included).
    public var replies = 0
    /// Requests for units this server does not serve, left unanswered as on a real bus.
    public var ignored = 0
    /// Broadcasts (unit 0), applied to every unit and never answered.
    public var broadcasts = 0
    /// Requests rejected by libmodbus (bad CRC, bad length), left unanswered.
    public var rejected = 0
    /// Partial frames dropped after a silence.
    public var framingErrors = 0
    /// Faults injected.
    public var faultsInjected = 0
}

/// Common interface of the RTU and TCP servers.
public protocol ModbusServing: AnyObject, Sendable {
    /// Starts serving on a thread of the server's own.
    func start() throws(ModbusError)
    /// Stops serving and waits for the server's thread to finish.
    func stop()
    /// What the server has done so far.
    var statistics: ServerStatistics { get }
}

extension ModbusServing {
    /// Serves until the calling task is cancelled, then stops: the shape a
    /// swift-service-lifecycle `Service.run()` needs.
    public func run() async throws {
        try start()
        defer { stop() }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(3600))
            } catch {
                break  // cancelled: the caller asked us to stop
            }
        }
    }
}

/// Routes request frames to units, injects faults, and produces the answer bytes.
/// Owned by one server thread.
final class RequestDispatcher {
    private let responders: [UInt8: UnitResponder]
    private var faults: FaultDrawer
    private let logger: Logger
    private let statisticsLock = NSLock()
    private var counters = ServerStatistics()

    init(units: [UInt8: RegisterBank], framing: ServerFraming, options: ServerOptions) throws(ModbusError) {
        var responders: [UInt8: UnitResponder] = [:]
        for (unit, bank) in units {
            guard (1...247).contains(unit) else {
                throw .invalidArgument("unit id must be 1 to 247, not \(unit)", operation: "serve unit \(unit)")
            }
            responders[unit] = try UnitResponder(unit: unit, bank: bank, framing: framing)
        }
        self.responders = responders
        self.faults = FaultDrawer(options.faults)
        self.logger = options.logger
    }

    var statistics: ServerStatistics { statisticsLock.withLock { counters } }

    func count(_ update: (inout ServerStatistics) -> Void) {
        statisticsLock.withLock { update(&counters) }
    }

    /// The answer to a whole request frame, or nil when none is due; the fault applied to it.
    func answer(_ frame: [UInt8], unit: UInt8) -> (bytes: [UInt8], fault: Fault?)? {
        if unit == 0 {
            count { $0.broadcasts += 1 }
            for responder in responders.values {
                do {
                    _ = try responder.respond(to: frame)
                } catch {
                    logger.debug(
                        "broadcast rejected",
                        metadata: ["modbus.unit": "\(responder.unit)", "error": "\(error)"]
                    )
                }
            }
            return nil
        }
        guard let responder = responders[unit] else {
            count { $0.ignored += 1 }
            logger.trace("request for a unit not served here", metadata: ["modbus.unit": "\(unit)"])
            return nil
        }
        count { $0.requests += 1 }
        let fault = faults.next()
        if fault != nil { count { $0.faultsInjected += 1 } }
        if fault == .noReply {
            logger.debug("fault injected", metadata: ["modbus.unit": "\(unit)", "fault": "\(Fault.noReply)"])
            return nil
        }
        var exception: ModbusException?
        if case .exception(let chosen) = fault { exception = chosen }
        do {
            let bytes = try responder.respond(to: frame, exception: exception)
            if let fault {
                logger.debug("fault injected", metadata: ["modbus.unit": "\(unit)", "fault": "\(fault)"])
            }
            return bytes.isEmpty ? nil : (bytes, fault)
        } catch {
            count { $0.rejected += 1 }
            logger.debug("request rejected", metadata: ["modbus.unit": "\(unit)", "error": "\(error)"])
            return nil
        }
    }
}

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

/// Writes all of `bytes` to a non-blocking descriptor, waiting up to `timeout` for room.
func writeAll(_ fd: Int32, _ bytes: [UInt8], timeout: Duration = .seconds(1)) -> Bool {
    var offset = 0
    let deadline = ContinuousClock.now + timeout
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written > 0 {
            offset += written
            continue
        }
        guard written < 0, errno == EAGAIN || errno == EINTR, ContinuousClock.now < deadline else { return false }
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&descriptor, 1, 10)
    }
    return true
}

/// Sleeps until `deadline` with sub-millisecond precision.
func sleep(until deadline: ContinuousClock.Instant) {
    let remaining = deadline - ContinuousClock.now
    guard remaining > .zero else { return }
    let (seconds, attoseconds) = remaining.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remainder = timespec()
    while nanosleep(&request, &remainder) == -1 && errno == EINTR {
        request = remainder
    }
}

internal import CModbus
import Executors
import Logging

/// Options of one client connection.
public struct ClientOptions: Sendable, Hashable {
    /// Time allowed for the first byte of an answer.
    public var responseTimeout: Duration
    /// Time allowed between two bytes of an answer.
    public var byteTimeout: Duration
    /// Retries of transient failures.
    public var retry: RetryPolicy

    public init(
        responseTimeout: Duration = .milliseconds(500),
        byteTimeout: Duration = .milliseconds(100),
        retry: RetryPolicy = RetryPolicy()
    ) {
        self.responseTimeout = responseTimeout
        self.byteTimeout = byteTimeout
        self.retry = retry
    }
}

/// How one unit on a shared bus is asked: its own response timeout and attempts (a slow
/// meter beside fast ones), and a silence the line keeps before each request to it (units
/// that miss a request sent right after another frame). Nil fields take the client's options.
public struct UnitTiming: Sendable, Hashable {
    /// Time allowed for the first byte of this unit's answer.
    public var responseTimeout: Duration?
    /// Attempts per request to this unit (1 = no retry).
    public var attempts: Int?
    /// Silence on the line, after the previous exchange, before a request to this unit.
    public var interFrameDelay: Duration

    /// The longest any of them may be: a minute, and 20 attempts.
    public static let maxDuration: Duration = .seconds(60)
    /// The shortest response timeout a unit may be given.
    public static let minResponseTimeout: Duration = .milliseconds(10)
    public static let maxAttempts = 20

    public init(responseTimeout: Duration? = nil, attempts: Int? = nil, interFrameDelay: Duration = .zero) {
        self.responseTimeout = responseTimeout
        self.attempts = attempts
        self.interFrameDelay = interFrameDelay
    }
}

/// Counters of what a client has done on its bus.
public struct ClientStatistics: Sendable, Hashable {
    /// Exchanges attempted, retries included.
    public var requests = 0
    /// Attempts that failed and were retried.
    public var retries = 0
    /// Exchanges that finally failed.
    public var failures = 0
    /// Time spent in exchanges (waiting on the bus).
    public var busTime = Duration.zero
}

/// A Modbus client for one bus (a serial line or a TCP connection).
///
/// The actor runs on a dedicated thread (`DedicatedThreadExecutor`): libmodbus's blocking calls happen
/// there, never on the cooperative pool, and requests from many tasks are serialised
/// as a half-duplex bus requires. It connects on first use and reconnects after a lost
/// connection. Transient failures are retried with exponential backoff.
public actor ModbusClient {
    /// Where this client talks to.
    public nonisolated let endpoint: ModbusEndpoint
    /// Timeouts and retries.
    public nonisolated let options: ClientOptions
    private nonisolated let bus: DedicatedThreadExecutor
    private let context: ModbusContext
    private let logger: Logger
    /// What the client has done so far.
    public private(set) var statistics = ClientStatistics()
    /// Per-unit timing (`setTiming`); units not listed use `options`.
    private var timings: [UInt8: UnitTiming] = [:]
    /// The response timeout libmodbus has now, so it is set only when a unit needs another.
    private var currentResponseTimeout: Duration
    /// When the last exchange on the line ended (for inter-frame delays).
    private var lineQuietSince: ContinuousClock.Instant?

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        bus.asUnownedSerialExecutor()
    }

    /// Creates the client; nothing is opened until the first request or `connect()`.
    public init(
        endpoint: ModbusEndpoint,
        options: ClientOptions = ClientOptions(),
        timings: [UInt8: UnitTiming] = [:],
        logger: Logger = Logger(label: "modbus.client")
    ) throws(ModbusError) {
        self.timings = timings
        self.endpoint = endpoint
        self.options = options
        self.context = try ModbusContext(endpoint: endpoint)
        try context.setTimeouts(response: options.responseTimeout, byte: options.byteTimeout)
        self.currentResponseTimeout = options.responseTimeout
        self.bus = DedicatedThreadExecutor(name: "modbus \(endpoint)")
        var logger = logger
        logger[metadataKey: "modbus.endpoint"] = "\(endpoint)"
        self.logger = logger
    }

    deinit {
        bus.shutdown()
    }

    /// Sets how `unit` is asked from now on (its own timeout, attempts, inter-frame delay).
    public func setTiming(_ timing: UnitTiming, for unit: UInt8) {
        timings[unit] = timing
    }

    /// Opens the device or connection now, so a wrong path or address shows at once.
    public func connect() throws(ModbusError) {
        try context.connect()
    }

    /// Closes the device or connection. The next request opens it again.
    public func close() {
        context.close()
    }

    /// Reads `count` registers (1…125) from the holding or input table.
    public func readRegisters(
        _ table: RegisterTable,
        address: UInt16,
        count: Int,
        unit: UInt8
    ) async throws(ModbusError) -> [UInt16] {
        let operation = "read \(count) \(table) at \(hex(address)) from unit \(unit)"
        guard table.holdsRegisters else {
            throw .invalidArgument("\(table) hold bits, not registers; use readBits", operation: operation)
        }
        try checkRange(address: address, count: count, limit: Int(MODBUS_MAX_READ_REGISTERS), operation)
        return try await exchange(unit: unit, operation) { (context: ModbusContext) throws(ModbusError) in
            var registers = [UInt16](repeating: 0, count: count)
            let read = registers.withUnsafeMutableBufferPointer { buffer in
                table == .holdingRegisters
                    ? modbus_read_registers(context.handle, Int32(address), Int32(count), buffer.baseAddress)
                    : modbus_read_input_registers(context.handle, Int32(address), Int32(count), buffer.baseAddress)
            }
            try context.check(read, operation)
            return registers
        }
    }

    /// Reads `count` bits (1…2000) from the coils or discrete inputs.
    public func readBits(
        _ table: RegisterTable,
        address: UInt16,
        count: Int,
        unit: UInt8
    ) async throws(ModbusError) -> [Bool] {
        let operation = "read \(count) \(table) at \(hex(address)) from unit \(unit)"
        guard !table.holdsRegisters else {
            throw .invalidArgument("\(table) hold registers, not bits; use readRegisters", operation: operation)
        }
        try checkRange(address: address, count: count, limit: Int(MODBUS_MAX_READ_BITS), operation)
        return try await exchange(unit: unit, operation) { (context: ModbusContext) throws(ModbusError) in
            var bits = [UInt8](repeating: 0, count: count)
            let read = bits.withUnsafeMutableBufferPointer { buffer in
                table == .coils
                    ? modbus_read_bits(context.handle, Int32(address), Int32(count), buffer.baseAddress)
                    : modbus_read_input_bits(context.handle, Int32(address), Int32(count), buffer.baseAddress)
            }
            try context.check(read, operation)
            return bits.map { $0 != 0 }
        }
    }

    /// Writes one holding register (function code 06).
    public func writeRegister(address: UInt16, value: UInt16, unit: UInt8) async throws(ModbusError) {
        let operation = "write holding register \(hex(address)) on unit \(unit)"
        _ = try await exchange(unit: unit, operation) { (context: ModbusContext) throws(ModbusError) in
            try context.check(modbus_write_register(context.handle, Int32(address), value), operation)
        }
    }

    /// Writes 1…123 consecutive holding registers (function code 16).
    public func writeRegisters(address: UInt16, values: [UInt16], unit: UInt8) async throws(ModbusError) {
        let operation = "write \(values.count) holding registers at \(hex(address)) on unit \(unit)"
        try checkRange(address: address, count: values.count, limit: Int(MODBUS_MAX_WRITE_REGISTERS), operation)
        try await exchange(unit: unit, operation) { (context: ModbusContext) throws(ModbusError) in
            let written = values.withUnsafeBufferPointer { buffer in
                modbus_write_registers(context.handle, Int32(address), Int32(values.count), buffer.baseAddress)
            }
            try context.check(written, operation)
        }
    }

    /// Writes one coil (function code 05).
    public func writeCoil(address: UInt16, value: Bool, unit: UInt8) async throws(ModbusError) {
        let operation = "write coil \(hex(address)) on unit \(unit)"
        _ = try await exchange(unit: unit, operation) { (context: ModbusContext) throws(ModbusError) in
            try context.check(modbus_write_bit(context.handle, Int32(address), value ? 1 : 0), operation)
        }
    }

    /// Runs one exchange with connect, retries and bookkeeping.
    private func exchange<Result>(
        unit: UInt8,
        _ operation: String,
        _ body: (ModbusContext) throws(ModbusError) -> Result
    ) async throws(ModbusError) -> Result {
        let timing = timings[unit]
        let maxAttempts = timing?.attempts ?? options.retry.maxAttempts
        let responseTimeout = timing?.responseTimeout ?? options.responseTimeout
        var attempt = 1
        while true {
            let clock = ContinuousClock()
            if let timing, timing.interFrameDelay > .zero, let quiet = lineQuietSince {
                let due = quiet + timing.interFrameDelay
                // Cancelled: send at once; the exchange itself ends a cancelled poll soon enough.
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
            }
            let started = clock.now
            do {
                statistics.requests += 1
                if responseTimeout != currentResponseTimeout {
                    try context.setTimeouts(response: responseTimeout, byte: options.byteTimeout)
                    currentResponseTimeout = responseTimeout
                }
                try context.connect()
                try context.setUnit(unit)
                // A unit speaks only when asked, so bytes waiting before a request are a late
                // answer to an earlier one (a slow or starved unit after a timeout, or the
                // second answer to a retried request): drop them, or this request reads them.
                context.flush()
                let result = try body(context)
                lineQuietSince = clock.now
                statistics.busTime += clock.now - started
                return result
            } catch {
                lineQuietSince = clock.now
                statistics.busTime += clock.now - started
                recover(after: error)
                guard error.isTransient, attempt < maxAttempts else {
                    statistics.failures += 1
                    logger.debug("modbus exchange failed", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                    throw error
                }
                let wait = options.retry.backoff(afterAttempt: attempt)
                logger.debug(
                    "modbus exchange failed; retrying",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)", "backoff": "\(wait)"]
                )
                statistics.retries += 1
                attempt += 1
                // Cancellation ends the retries early; the caller sees the bus error.
                let busError = error
                do { try await Task.sleep(for: wait) } catch { throw busError }
            }
        }
    }

    /// Puts the line back into a known state after a failure.
    private func recover(after error: ModbusError) {
        switch error.kind {
        case .connectionLost, .connectionRefused, .noSuchDevice, .permissionDenied:
            context.close()
        case .timeout, .badCRC, .badFrame:
            // A late or partial answer would otherwise be read as the next request's answer.
            context.flush()
        default:
            break
        }
    }

    private func checkRange(address: UInt16, count: Int, limit: Int, _ operation: String) throws(ModbusError) {
        guard (1...limit).contains(count) else {
            throw .invalidArgument("count must be 1 to \(limit), not \(count)", operation: operation)
        }
        guard Int(address) + count <= 0x10000 else {
            throw .invalidArgument("the range runs past address 0xFFFF", operation: operation)
        }
    }
}

/// `0x0048` style.
func hex(_ address: UInt16) -> String {
    "0x" + String(address, radix: 16, uppercase: true).leftPadded(to: 4)
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

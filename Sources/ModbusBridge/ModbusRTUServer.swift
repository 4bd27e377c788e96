import Foundation
import Glibc
import Logging

/// Serves register banks over Modbus RTU on a pseudo-terminal or a real serial device.
///
/// Several unit ids share the line, as meters on a multi-drop RS-485 bus do; a request
/// for a unit that is not served gets no answer, and neither does a frame with a bad
/// CRC. Reads outside a bank's layout get exception 02 (ILLEGAL DATA ADDRESS) from
/// libmodbus. One thread owns the line.
public final class ModbusRTUServer: ModbusServing, @unchecked Sendable {
    /// The device clients open.
    public let path: String
    /// The line's settings, used for wire timing and frame gaps.
    public let settings: SerialSettings
    private let descriptor: Int32
    /// Keeps the pseudo-terminal or device open while serving.
    private let lineOwner: AnyObject
    private let dispatcher: RequestDispatcher
    private let options: ServerOptions
    private let thread: PollingThread

    /// Serves `units` on the master side of `pseudoTerminal`; clients open its `path`.
    public convenience init(
        pseudoTerminal: PseudoTerminal,
        settings: SerialSettings = SerialSettings(),
        units: [UInt8: RegisterBank],
        options: ServerOptions = ServerOptions()
    ) throws(ModbusError) {
        try self.init(
            descriptor: pseudoTerminal.master,
            path: pseudoTerminal.path,
            owner: pseudoTerminal,
            settings: settings,
            units: units,
            options: options
        )
    }

    /// Serves `units` on a real serial device such as `/dev/ttyUSB0`.
    public convenience init(
        device: String,
        settings: SerialSettings,
        units: [UInt8: RegisterBank],
        options: ServerOptions = ServerOptions()
    ) throws(ModbusError) {
        let serial = try SerialDevice(path: device, settings: settings)
        try self.init(
            descriptor: serial.descriptor,
            path: device,
            owner: serial,
            settings: settings,
            units: units,
            options: options
        )
    }

    /// Serves on any descriptor that carries RTU frames (a serial line, or a TCP
    /// connection of an RTU-over-TCP converter); `owner` keeps it open.
    init(
        descriptor: Int32,
        path: String,
        owner: AnyObject,
        settings: SerialSettings,
        units: [UInt8: RegisterBank],
        options: ServerOptions
    ) throws(ModbusError) {
        try settings.validate()
        self.descriptor = descriptor
        self.path = path
        self.lineOwner = owner
        self.settings = settings
        self.options = options
        var logger = options.logger
        logger[metadataKey: "modbus.line"] = "\(path)"
        var adjusted = options
        adjusted.logger = logger
        self.dispatcher = try RequestDispatcher(units: units, framing: .rtu, options: adjusted)
        self.thread = try PollingThread()
    }

    deinit {
        stop()
    }

    public var statistics: ServerStatistics { dispatcher.statistics }

    public func start() throws(ModbusError) {
        options.logger.info(
            "serving Modbus RTU",
            metadata: [
                "modbus.line": "\(path)", "serial": "\(settings)", "wire_timing": "\(options.wireTiming)",
            ]
        )
        thread.start(name: "modbus rtu \(path)") { [self] in serve() }
    }

    public func stop() {
        thread.stop()
    }

    /// How long a partial frame may wait for its next byte before it is dropped. The
    /// specification's 1.5 characters is too tight for a pseudo-terminal's scheduling.
    private var silenceLimit: Duration {
        .microseconds(Int64(max(settings.frameGap, 0.02) * 1_000_000))
    }

    private func serve() {
        var pending: [UInt8] = []
        var lastByte = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 512)
        while !thread.isStopping {
            var descriptors = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: thread.wakeDescriptor, events: Int16(POLLIN), revents: 0),
            ]
            let timeout: Int32 = pending.isEmpty ? 1000 : 5
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0, errno != EINTR {
                options.logger.error("polling the line failed", metadata: ["errno": "\(errno)"])
                return
            }
            if descriptors[1].revents != 0 { return }
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    pending.append(contentsOf: buffer[0..<count])
                    lastByte = ContinuousClock.now
                }
            }
            let silent = ContinuousClock.now - lastByte >= silenceLimit
            while !pending.isEmpty {
                switch RTURequestFraming.boundary(pending[...]) {
                case .complete(let length) where pending.count >= length:
                    handle(Array(pending[0..<length]), receivedAt: lastByte)
                    pending.removeFirst(length)
                    continue
                case .unknown where silent:
                    handle(pending, receivedAt: lastByte)
                    pending.removeAll()
                case .complete, .needMore, .unknown:
                    if silent {
                        dispatcher.count { $0.framingErrors += 1 }
                        options.logger.debug(
                            "partial frame dropped after silence",
                            metadata: ["bytes": "\(pending.count)"]
                        )
                        pending.removeAll()
                    }
                }
                break
            }
        }
    }

    private func handle(_ frame: [UInt8], receivedAt: ContinuousClock.Instant) {
        guard let (answer, fault) = dispatcher.answer(frame, unit: frame[0]) else { return }
        var bytes = answer
        switch fault {
        case .corruptFrame:
            bytes[bytes.count - 1] ^= 0xA5
        case .delay(let duration):
            sleep(until: ContinuousClock.now + duration)
        default:
            break
        }
        if options.wireTiming {
            let wire = settings.exchangeTime(requestBytes: frame.count, responseBytes: bytes.count)
            sleep(until: receivedAt + .microseconds(Int64(wire * 1_000_000)))
        }
        if writeAll(descriptor, bytes) {
            dispatcher.count { $0.replies += 1 }
        } else {
            options.logger.warning("answer not written: the line is not being read", metadata: ["errno": "\(errno)"])
        }
    }
}

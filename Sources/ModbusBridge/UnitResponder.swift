internal import CModbus
import Glibc

/// Answers requests for one unit id with libmodbus's own `modbus_receive`/`modbus_reply`.
///
/// The server's line thread cuts frames and routes them by unit; each unit has its own
/// libmodbus context bound to one end of a socket pair. A frame written into the pair is
/// checked (CRC, unit, length) and answered by libmodbus from the unit's `RegisterBank`,
/// and the answer is read back from the pair, so the server can delay, drop or damage it.
/// Used only by the thread that owns the line.
final class UnitResponder {
    let unit: UInt8
    let bank: RegisterBank
    private let context: ModbusContext
    private let ours: Int32
    private let theirs: Int32
    private var request = [UInt8](repeating: 0, count: Int(MODBUS_MAX_ADU_LENGTH))

    init(unit: UInt8, bank: RegisterBank, framing: ServerFraming) throws(ModbusError) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            throw ModbusError.fromErrno(errno, operation: "create socket pair for unit \(unit)")
        }
        for fd in pair { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        do {
            context = try ModbusContext(responderFraming: framing, socket: pair[1], unit: unit)
        } catch {
            Glibc.close(pair[0])
            Glibc.close(pair[1])
            throw error
        }
        self.unit = unit
        self.bank = bank
        self.ours = pair[0]
        self.theirs = pair[1]
    }

    deinit {
        Glibc.close(ours)
        Glibc.close(theirs)
    }

    /// The answer to `frame`, empty when there is none (a broadcast). With `exception`, the
    /// answer is that exception instead of the data. Throws when libmodbus rejects the
    /// frame (bad CRC, wrong length): a real unit stays silent then.
    func respond(to frame: [UInt8], exception: ModbusException? = nil) throws(ModbusError) -> [UInt8] {
        drain(theirs)
        let written = frame.withUnsafeBytes { write(ours, $0.baseAddress, $0.count) }
        guard written == frame.count else {
            throw ModbusError.fromErrno(errno, operation: "hand request to unit \(unit)")
        }
        let length = try context.check(modbus_receive(context.handle, &request), "receive request")
        guard length > 0 else { return [] }
        _ = try bank.withMapping { mapping throws(ModbusError) in
            if let exception {
                try context.check(
                    modbus_reply_exception(context.handle, request, UInt32(exception.rawValue)),
                    "reply exception"
                )
            } else {
                try context.check(modbus_reply(context.handle, request, length, mapping), "reply")
            }
        }
        return drain(ours)
    }

    /// Reads whatever is waiting on `fd`.
    @discardableResult
    private func drain(_ fd: Int32) -> [UInt8] {
        var collected: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { return collected }
            collected.append(contentsOf: buffer[0..<count])
        }
    }
}

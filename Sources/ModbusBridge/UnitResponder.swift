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
    private let framing: ServerFraming
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
        self.framing = framing
        self.ours = pair[0]
        self.theirs = pair[1]
    }

    deinit {
        Glibc.close(ours)
        Glibc.close(theirs)
    }

    /// The answer to `frame`, empty when there is none (a broadcast), and the exception the
    /// bank's access rules refused it with, if they did. With `exception`, the answer is that
    /// exception instead of the data. Throws when libmodbus rejects the frame (bad CRC, wrong
    /// length): a real unit stays silent then.
    func respond(
        to frame: [UInt8],
        exception: ModbusException? = nil
    ) throws(ModbusError) -> (bytes: [UInt8], refused: ModbusException?) {
        drain(theirs)
        let written = frame.withUnsafeBytes { write(ours, $0.baseAddress, $0.count) }
        guard written == frame.count else {
            throw ModbusError.fromErrno(errno, operation: "hand request to unit \(unit)")
        }
        let length = try context.check(modbus_receive(context.handle, &request), "receive request")
        guard length > 0 else { return ([], nil) }
        let refused = exception == nil ? refusal(length: Int(length)) : nil
        if refused != nil, request[unitOffset] == 0 {
            return ([], refused)  // a refused broadcast: nothing changes and nobody answers
        }
        _ = try bank.withMapping { mapping throws(ModbusError) in
            if let reply = exception ?? refused {
                try context.check(
                    modbus_reply_exception(context.handle, request, UInt32(reply.rawValue)),
                    "reply exception"
                )
            } else {
                try context.check(modbus_reply(context.handle, request, length, mapping), "reply")
            }
        }
        return (drain(ours), refused)
    }

    /// Where the unit id sits in a frame: first in RTU, last of the MBAP header in TCP.
    private var unitOffset: Int { framing == .rtu ? 0 : 6 }

    /// The bank's verdict on the request of `length` bytes that libmodbus has just checked.
    private func refusal(length: Int) -> ModbusException? {
        let functionIndex = unitOffset + 1
        let end = length - (framing == .rtu ? 2 : 0)  // RTU frames end with a CRC
        guard functionIndex < end, end <= request.count else { return nil }
        return bank.access.refusal(function: request[functionIndex], data: request[(functionIndex + 1)..<end])
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

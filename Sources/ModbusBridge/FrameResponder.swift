internal import CModbus
import Glibc

/// Answers a server's request frames with libmodbus's own `modbus_receive`/`modbus_reply`,
/// for whichever unit each frame addresses.
///
/// The server's line thread cuts frames and routes them by unit; one libmodbus context per
/// server, bound to one end of a socket pair, checks each frame (CRC, unit, length) and
/// answers it from the addressed unit's `RegisterBank`, and the answer is read back from
/// the pair, so the server can delay, drop or damage it. One pair per server, not per unit:
/// a process serving a thousand meters holds two descriptors per bus for them, and the one
/// libmodbus sees is kept below `FD_SETSIZE`, since libmodbus `select()`s on it and aborts the
/// process on a descriptor numbered 1024 or more. Used only by the thread that owns the line.
final class FrameResponder {
    private let framing: ServerFraming
    private let context: ModbusContext
    private let ours: Int32
    private let theirs: Int32
    private var request = [UInt8](repeating: 0, count: Int(MODBUS_MAX_ADU_LENGTH))

    init(framing: ServerFraming) throws(ModbusError) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ModbusError.fromErrno(errno, operation: "create the responder's socket pair")
        }
        let theirs: Int32
        do {
            theirs = try Self.belowSelectLimit(pair[1])
        } catch {
            Glibc.close(pair[0])
            throw error
        }
        for fd in [pair[0], theirs] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        do {
            context = try ModbusContext(responderFraming: framing, socket: theirs)
        } catch {
            Glibc.close(pair[0])
            Glibc.close(theirs)
            throw error
        }
        self.framing = framing
        self.ours = pair[0]
        self.theirs = theirs
    }

    deinit {
        Glibc.close(ours)
        Glibc.close(theirs)
    }

    /// `fd`, or the lowest free descriptor it is moved to when it is `FD_SETSIZE` or above
    /// (`fd` is closed then); throws when no descriptor below the limit is free.
    static func belowSelectLimit(_ fd: Int32) throws(ModbusError) -> Int32 {
        let limit = Int32(FD_SETSIZE)
        guard fd >= limit else { return fd }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        let code = errno
        Glibc.close(fd)
        guard moved >= 0 else { throw ModbusError.fromErrno(code, operation: "move the responder's descriptor") }
        guard moved < limit else {
            Glibc.close(moved)
            throw .invalidArgument(
                "every descriptor below \(limit) is in use, and libmodbus aborts the process on a higher one",
                operation: "create the responder's socket pair"
            )
        }
        return moved
    }

    /// The answer of `unit` to `frame` from `bank`, empty when there is none (a broadcast),
    /// and the exception the bank's access rules refused it with, if they did. With
    /// `exception`, the answer is that exception instead of the data. Throws when libmodbus
    /// rejects the frame (bad CRC, wrong length): a real unit stays silent then.
    func respond(
        to frame: [UInt8],
        unit: UInt8,
        bank: RegisterBank,
        exception: ModbusException? = nil
    ) throws(ModbusError) -> (bytes: [UInt8], refused: ModbusException?) {
        drain(theirs)
        try context.setUnit(unit)
        let written = frame.withUnsafeBytes { write(ours, $0.baseAddress, $0.count) }
        guard written == frame.count else {
            throw ModbusError.fromErrno(errno, operation: "hand request to unit \(unit)")
        }
        let length = try context.check(modbus_receive(context.handle, &request), "receive request")
        guard length > 0 else { return ([], nil) }
        let refused = exception == nil ? refusal(length: Int(length), access: bank.access) : nil
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

    /// The verdict of `access` on the request of `length` bytes that libmodbus has just checked.
    private func refusal(length: Int, access: AccessRules) -> ModbusException? {
        let functionIndex = unitOffset + 1
        let end = length - (framing == .rtu ? 2 : 0)  // RTU frames end with a CRC
        guard functionIndex < end, end <= request.count else { return nil }
        return access.refusal(function: request[functionIndex], data: request[(functionIndex + 1)..<end])
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

internal import CModbus
import Glibc

/// A Modbus exception code returned by a server (Modbus Application Protocol, §7).
public enum ModbusException: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case illegalFunction = 0x01
    case illegalDataAddress = 0x02
    case illegalDataValue = 0x03
    case serverDeviceFailure = 0x04
    case acknowledge = 0x05
    case serverDeviceBusy = 0x06
    case negativeAcknowledge = 0x07
    case memoryParityError = 0x08
    case gatewayPathUnavailable = 0x0A
    case gatewayTargetFailedToRespond = 0x0B

    /// The name the Modbus specification gives the exception.
    public var name: String {
        switch self {
        case .illegalFunction: "ILLEGAL FUNCTION"
        case .illegalDataAddress: "ILLEGAL DATA ADDRESS"
        case .illegalDataValue: "ILLEGAL DATA VALUE"
        case .serverDeviceFailure: "SERVER DEVICE FAILURE"
        case .acknowledge: "ACKNOWLEDGE"
        case .serverDeviceBusy: "SERVER DEVICE BUSY"
        case .negativeAcknowledge: "NEGATIVE ACKNOWLEDGE"
        case .memoryParityError: "MEMORY PARITY ERROR"
        case .gatewayPathUnavailable: "GATEWAY PATH UNAVAILABLE"
        case .gatewayTargetFailedToRespond: "GATEWAY TARGET DEVICE FAILED TO RESPOND"
        }
    }

    public var description: String {
        "exception \(String(format: "%02X", rawValue)) \(name)"
    }
}

/// An error from a Modbus operation. It keeps the `errno` and libmodbus's own text.
public struct ModbusError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in terms a caller can act on.
    public enum Kind: Sendable, Equatable {
        /// No (complete) answer within the response or byte timeout.
        case timeout
        /// A frame arrived with a wrong CRC.
        case badCRC
        /// A frame arrived that is not a valid answer (wrong length, unit, function, transaction).
        case badFrame
        /// The server answered with a Modbus exception.
        case exception(ModbusException)
        /// The serial device does not exist.
        case noSuchDevice
        /// The serial device exists but this user may not open it.
        case permissionDenied
        /// Nothing listens at the TCP address.
        case connectionRefused
        /// The connection broke during an exchange.
        case connectionLost
        /// An argument was outside what Modbus or libmodbus allows.
        case invalidArgument
        /// Any other system error.
        case system
    }

    /// What went wrong.
    public var kind: Kind
    /// The `errno` observed, when there was one (libmodbus codes included).
    public var errno: Int32
    /// The explanation from libmodbus (`modbus_strerror`) or the system.
    public var message: String
    /// What was being attempted, e.g. `read 2 input registers at 0x0000 from unit 1 on /dev/ttyUSB0`.
    public var operation: String

    public init(kind: Kind, errno: Int32 = 0, message: String, operation: String) {
        self.kind = kind
        self.errno = errno
        self.message = message
        self.operation = operation
    }

    /// True for errors a retry can cure: lost or damaged frames and busy servers.
    public var isTransient: Bool {
        switch kind {
        case .timeout, .badCRC, .badFrame, .connectionLost, .connectionRefused: true
        case .exception(let exception): exception == .serverDeviceBusy || exception == .acknowledge
        default: false
        }
    }

    public var description: String {
        let errnoText = errno == 0 ? "" : " (errno \(errno))"
        return "\(operation): \(kindText): \(message)\(errnoText)"
    }

    private var kindText: String {
        switch kind {
        case .timeout: "timeout"
        case .badCRC: "bad CRC"
        case .badFrame: "bad frame"
        case .exception(let exception): exception.description
        case .noSuchDevice: "no such device"
        case .permissionDenied: "permission denied"
        case .connectionRefused: "connection refused"
        case .connectionLost: "connection lost"
        case .invalidArgument: "invalid argument"
        case .system: "system error"
        }
    }

    /// Builds the error for the current `errno` after a libmodbus call failed.
    static func fromErrno(_ code: Int32, operation: String) -> ModbusError {
        let text = String(cString: modbus_strerror(code))
        return ModbusError(kind: kind(for: code), errno: code, message: text, operation: operation)
    }

    static func kind(for code: Int32) -> Kind {
        let exceptionBase = GL_MODBUS_ENOBASE
        if code > exceptionBase, code <= GL_EMBXGTAR,
            let exception = ModbusException(rawValue: UInt8(code - exceptionBase))
        {
            return .exception(exception)
        }
        switch code {
        case ETIMEDOUT: return .timeout
        case GL_EMBBADCRC: return .badCRC
        case GL_EMBBADDATA, GL_EMBBADEXC, GL_EMBUNKEXC, GL_EMBMDATA, GL_EMBBADSLAVE: return .badFrame
        case ENOENT, ENODEV, ENXIO: return .noSuchDevice
        case EACCES, EPERM: return .permissionDenied
        case ECONNREFUSED: return .connectionRefused
        case ECONNRESET, EPIPE, EBADF, ENOTCONN, EIO: return .connectionLost
        case EINVAL, EMSGSIZE: return .invalidArgument
        default: return .system
        }
    }

    static func invalidArgument(_ message: String, operation: String) -> ModbusError {
        ModbusError(kind: .invalidArgument, errno: EINVAL, message: message, operation: operation)
    }
}

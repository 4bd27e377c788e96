/// Parity of a serial line.
public enum Parity: String, Sendable, Hashable, Codable, CaseIterable {
    case none = "N"
    case even = "E"
    case odd = "O"

    /// Accepts `N`, `E`, `O` or `none`, `even`, `odd`, in any case.
    public init?(flag: String) {
        switch flag.lowercased() {
        case "n", "none": self = .none
        case "e", "even": self = .even
        case "o", "odd": self = .odd
        default: return nil
        }
    }

    /// The character libmodbus takes for this parity.
    var libmodbusCharacter: CChar {
        switch self {
        case .none: CChar(UInt8(ascii: "N"))
        case .even: CChar(UInt8(ascii: "E"))
        case .odd: CChar(UInt8(ascii: "O"))
        }
    }
}

/// How the RTS line is driven around a transmission, for RS-485 adapters that need it.
public enum RTSMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// RTS is not touched (adapters with automatic direction control, the usual case).
    case none
    /// RTS is raised while sending.
    case up
    /// RTS is lowered while sending.
    case down
}

/// Settings of a serial line: speed, framing, and RS-485 direction control.
public struct SerialSettings: Sendable, Hashable, Codable, CustomStringConvertible {
    public var baud: Int
    public var parity: Parity
    public var dataBits: Int
    public var stopBits: Int
    /// Put the port in RS-485 mode (`TIOCSRS485`); only for UARTs whose driver supports it.
    public var rs485: Bool
    /// RTS direction control done by libmodbus.
    public var rts: RTSMode
    /// Delay between RTS change and transmission, in microseconds (libmodbus's default when nil).
    public var rtsDelayMicroseconds: Int?

    public init(
        baud: Int = 9600,
        parity: Parity = .none,
        dataBits: Int = 8,
        stopBits: Int = 1,
        rs485: Bool = false,
        rts: RTSMode = .none,
        rtsDelayMicroseconds: Int? = nil
    ) {
        self.baud = baud
        self.parity = parity
        self.dataBits = dataBits
        self.stopBits = stopBits
        self.rs485 = rs485
        self.rts = rts
        self.rtsDelayMicroseconds = rtsDelayMicroseconds
    }

    /// The baud rates a serial line accepts here (POSIX termios speeds).
    public static let supportedBaudRates = [
        1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
    ]

    /// Checks every field, naming the first bad one.
    public func validate() throws(ModbusError) {
        let operation = "serial settings \(self)"
        guard Self.supportedBaudRates.contains(baud) else {
            throw .invalidArgument(
                "baud rate \(baud) is not supported; use one of \(Self.supportedBaudRates.map(String.init).joined(separator: ", "))",
                operation: operation
            )
        }
        guard (5...8).contains(dataBits) else {
            throw .invalidArgument("data bits must be 5 to 8, not \(dataBits)", operation: operation)
        }
        guard stopBits == 1 || stopBits == 2 else {
            throw .invalidArgument("stop bits must be 1 or 2, not \(stopBits)", operation: operation)
        }
    }

    /// Bits on the wire for one character: start bit, data bits, parity bit, stop bits.
    public var bitsPerCharacter: Int {
        1 + dataBits + (parity == .none ? 0 : 1) + stopBits
    }

    /// Time one character takes on the wire, in seconds.
    public var characterTime: Double {
        Double(bitsPerCharacter) / Double(baud)
    }

    /// The silent interval that ends an RTU frame: 3.5 characters, or a fixed 1.75 ms above
    /// 19200 baud, as the Modbus serial line specification (§2.5.1.1) prescribes.
    public var frameGap: Double {
        baud > 19200 ? 0.00175 : 3.5 * characterTime
    }

    /// Wire time of an RTU exchange: request, frame gap, response.
    public func exchangeTime(requestBytes: Int, responseBytes: Int) -> Double {
        Double(requestBytes + responseBytes) * characterTime + frameGap
    }

    /// `9600 8N1` style.
    public var description: String {
        "\(baud) \(dataBits)\(parity.rawValue)\(stopBits)"
    }
}

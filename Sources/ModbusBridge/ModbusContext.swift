internal import CModbus
import Glibc

/// Owns one libmodbus context (`modbus_t`). Not thread-safe: one thread uses it.
///
/// All libmodbus calls of the client go through here, and every failing call is turned
/// into a `ModbusError` by `check`.
final class ModbusContext {
    let handle: OpaquePointer
    /// For messages: the device or address this context talks to.
    let target: String
    private let endpoint: ModbusEndpoint
    /// For RTU over TCP: the TCP context that owns the socket the RTU context frames on.
    private var carrier: OpaquePointer?
    private(set) var isConnected = false

    init(endpoint: ModbusEndpoint) throws(ModbusError) {
        self.endpoint = endpoint
        self.target = endpoint.description
        let created: OpaquePointer?
        switch endpoint {
        case .rtu(let device, let settings):
            try settings.validate()
            created = modbus_new_rtu(
                device,
                Int32(settings.baud),
                settings.parity.libmodbusCharacter,
                Int32(settings.dataBits),
                Int32(settings.stopBits)
            )
        case .tcp(let host, let port):
            created = modbus_new_tcp_pi(host, String(port))
        case .rtuOverTCP(let host, let port):
            // libmodbus frames RTU on whatever descriptor it is given; the TCP context only
            // opens the connection. Baud and framing settings do not matter on a socket.
            created = modbus_new_rtu("rtu-over-tcp://\(host):\(port)", 9600, CChar(UInt8(ascii: "N")), 8, 1)
        }
        guard let created else {
            throw ModbusError.fromErrno(Glibc.errno, operation: "create Modbus context for \(endpoint)")
        }
        self.handle = created
    }

    /// A context that only frames and answers requests handed to it on `socket` (see
    /// `FrameResponder`), for the unit `setUnit` selects. It is never connected; the caller
    /// owns the socket.
    init(responderFraming framing: ServerFraming, socket: Int32) throws(ModbusError) {
        let created: OpaquePointer? =
            switch framing {
            case .rtu: modbus_new_rtu("responder", 9600, CChar(UInt8(ascii: "N")), 8, 1)
            case .tcp: modbus_new_tcp("127.0.0.1", 502)
            }
        guard let created else {
            throw ModbusError.fromErrno(Glibc.errno, operation: "create responder context")
        }
        self.handle = created
        self.endpoint = .tcp(host: "responder", port: 0)
        self.target = "responder"
        try check(modbus_set_socket(handle, socket), "attach responder socket")
        // Requests arrive whole before libmodbus reads them: never wait long for a byte.
        try setTimeouts(response: .milliseconds(5), byte: .milliseconds(5))
    }

    deinit {
        close()
        modbus_free(handle)
    }

    /// Turns libmodbus's `-1` (or NULL) result into a typed error carrying `errno`.
    @discardableResult
    func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(ModbusError) -> Int32 {
        if result >= 0 { return result }
        throw ModbusError.fromErrno(Glibc.errno, operation: "\(operation()) on \(target)")
    }

    /// Opens the device or connection, applying the serial settings.
    func connect() throws(ModbusError) {
        guard !isConnected else { return }
        switch endpoint {
        case .rtu(_, let settings):
            try check(modbus_connect(handle), "open")
            if settings.rs485 {
                try check(modbus_rtu_set_serial_mode(handle, Int32(MODBUS_RTU_RS485)), "enable RS-485 mode")
            }
            if settings.rts != .none {
                let mode = settings.rts == .up ? MODBUS_RTU_RTS_UP : MODBUS_RTU_RTS_DOWN
                try check(modbus_rtu_set_rts(handle, Int32(mode)), "set RTS mode")
                if let delay = settings.rtsDelayMicroseconds {
                    try check(modbus_rtu_set_rts_delay(handle, Int32(delay)), "set RTS delay")
                }
            }
        case .tcp:
            try check(modbus_connect(handle), "connect")
        case .rtuOverTCP(let host, let port):
            guard let tcp = modbus_new_tcp_pi(host, String(port)) else {
                throw ModbusError.fromErrno(Glibc.errno, operation: "create TCP carrier for \(target)")
            }
            if modbus_connect(tcp) == -1 {
                let code = Glibc.errno
                modbus_free(tcp)
                throw ModbusError.fromErrno(code, operation: "connect on \(target)")
            }
            carrier = tcp
            try check(modbus_set_socket(handle, modbus_get_socket(tcp)), "attach TCP socket")
        }
        isConnected = true
    }

    /// Closes the device or connection; the context can connect again.
    func close() {
        guard isConnected else { return }
        if let carrier {
            // The RTU context must not restore termios on a socket: detach it first.
            modbus_set_socket(handle, -1)
            modbus_close(carrier)
            modbus_free(carrier)
            self.carrier = nil
        } else {
            modbus_close(handle)
        }
        isConnected = false
    }

    /// Drops bytes waiting on the line, e.g. a late answer after a timeout.
    func flush() {
        guard isConnected else { return }
        modbus_flush(handle)
    }

    func setTimeouts(response: Duration, byte: Duration) throws(ModbusError) {
        let (rs, ru) = response.secondsAndMicroseconds
        try check(modbus_set_response_timeout(handle, rs, ru), "set response timeout")
        let (bs, bu) = byte.secondsAndMicroseconds
        try check(modbus_set_byte_timeout(handle, bs, bu), "set byte timeout")
    }

    func setUnit(_ unit: UInt8) throws(ModbusError) {
        try check(modbus_set_slave(handle, Int32(unit)), "select unit \(unit)")
    }
}

extension Duration {
    /// Whole seconds and remaining microseconds, as libmodbus's timeout setters take them.
    var secondsAndMicroseconds: (UInt32, UInt32) {
        let (seconds, attoseconds) = components
        return (UInt32(clamping: seconds), UInt32(clamping: attoseconds / 1_000_000_000_000))
    }
}

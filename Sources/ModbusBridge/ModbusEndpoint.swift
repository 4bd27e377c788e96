/// Where a Modbus client talks to.
public enum ModbusEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// Modbus RTU on a serial device such as `/dev/ttyUSB0`.
    case rtu(device: String, settings: SerialSettings)
    /// Modbus TCP (MBAP framing).
    case tcp(host: String, port: Int)
    /// Modbus RTU frames carried over a TCP connection, as serial-to-Ethernet converters in
    /// transparent mode expect.
    case rtuOverTCP(host: String, port: Int)

    public var description: String {
        switch self {
        case .rtu(let device, let settings): "\(device) (\(settings))"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .rtuOverTCP(let host, let port): "rtu+tcp://\(host):\(port)"
        }
    }
}

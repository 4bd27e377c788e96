import ArgumentParser
import ModbusBridge
import OperatorKit

/// Where a bus is, before its serial settings are known: a serial device or a TCP
/// address. Built from flags or a configuration file.
package enum BusAddress: Sendable {
    case device(String)
    case tcp(host: String, port: Int)
    case rtuOverTCP(host: String, port: Int)

    /// From exactly one of a device path, a Modbus TCP and an RTU-over-TCP address;
    /// `names` are what the user called them (flags or file keys), for errors.
    package init(
        device: String?,
        tcp: String?,
        rtuOverTCP: String?,
        names: (device: String, tcp: String, rtuOverTCP: String)
    ) throws {
        switch (device, tcp, rtuOverTCP) {
        case (let device?, nil, nil):
            self = .device(device)
        case (nil, let tcp?, nil):
            let address = try HostPort(parsing: tcp, flag: names.tcp)
            self = .tcp(host: address.host, port: address.port)
        case (nil, nil, let rtu?):
            let address = try HostPort(parsing: rtu, flag: names.rtuOverTCP)
            self = .rtuOverTCP(host: address.host, port: address.port)
        default:
            throw ValidationError("give exactly one of \(names.device), \(names.tcp) or \(names.rtuOverTCP)")
        }
    }

    /// The endpoint; `serial` applies to a serial device only.
    package func endpoint(serial: SerialSettings) -> ModbusEndpoint {
        switch self {
        case .device(let path): .rtu(device: path, settings: serial)
        case .tcp(let host, let port): .tcp(host: host, port: port)
        case .rtuOverTCP(let host, let port): .rtuOverTCP(host: host, port: port)
        }
    }
}

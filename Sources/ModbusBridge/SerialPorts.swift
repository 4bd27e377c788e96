internal import CSerialPort
import Glibc

/// A serial port found on this machine.
public struct SerialPortInfo: Sendable, Hashable, Codable {
    /// Device path, e.g. `/dev/ttyUSB0`.
    public var path: String
    /// libserialport's description, e.g. `FT232R USB UART - FT232R USB UART`.
    public var description: String
    /// `usb`, `native` or `bluetooth`.
    public var transport: String
    /// USB vendor id, for USB adapters.
    public var usbVendorID: UInt16?
    /// USB product id, for USB adapters.
    public var usbProductID: UInt16?
    public var serialNumber: String?
    public var manufacturer: String?
    public var product: String?

    /// `0403:6001` style, or nil for ports that are not USB.
    public var usbID: String? {
        guard let usbVendorID, let usbProductID else { return nil }
        return String(format: "%04x:%04x", usbVendorID, usbProductID)
    }
}

/// Lists serial ports through libserialport, so a user can find their USB-RS485 adapter.
public enum SerialPortDiscovery {
    /// Every serial port the system reports.
    public static func list() throws(ModbusError) -> [SerialPortInfo] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        try check(sp_list_ports(&list), "list serial ports")
        guard let list else { return [] }
        defer { sp_free_port_list(list) }
        var ports: [SerialPortInfo] = []
        var index = 0
        while let port = list[index] {
            ports.append(info(port))
            index += 1
        }
        return ports.sorted { $0.path < $1.path }
    }

    /// What libserialport knows of the port at `path`.
    public static func info(path: String) throws(ModbusError) -> SerialPortInfo {
        try requireExists(path, "look up serial port \(path)")
        var port: OpaquePointer?
        try check(sp_get_port_by_name(path, &port), "look up serial port \(path)")
        guard let port else {
            throw ModbusError(kind: .noSuchDevice, errno: ENOENT, message: "no such port", operation: "look up \(path)")
        }
        defer { sp_free_port(port) }
        return info(port)
    }

    private static func info(_ port: OpaquePointer) -> SerialPortInfo {
        func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
            pointer.map { String(cString: $0) }
        }
        let transport = sp_get_port_transport(port)
        var info = SerialPortInfo(
            path: text(sp_get_port_name(port)) ?? "?",
            description: text(sp_get_port_description(port)) ?? "",
            transport: transport == SP_TRANSPORT_USB
                ? "usb" : transport == SP_TRANSPORT_BLUETOOTH ? "bluetooth" : "native"
        )
        if transport == SP_TRANSPORT_USB {
            var vendor: Int32 = 0
            var product: Int32 = 0
            if sp_get_port_usb_vid_pid(port, &vendor, &product) == SP_OK {
                info.usbVendorID = UInt16(truncatingIfNeeded: vendor)
                info.usbProductID = UInt16(truncatingIfNeeded: product)
            }
            info.serialNumber = text(sp_get_port_usb_serial(port))
            info.manufacturer = text(sp_get_port_usb_manufacturer(port))
            info.product = text(sp_get_port_usb_product(port))
        }
        return info
    }

    /// libserialport reports a missing device as a bad argument; say what it is.
    static func requireExists(_ path: String, _ operation: String) throws(ModbusError) {
        guard access(path, F_OK) == 0 else {
            throw ModbusError(kind: .noSuchDevice, errno: ENOENT, message: "no such device", operation: operation)
        }
    }

    /// Turns a libserialport result into a typed error carrying errno and its message.
    static func check(_ result: sp_return, _ operation: String) throws(ModbusError) {
        guard result.rawValue < 0 else { return }
        switch result {
        case SP_ERR_FAIL:
            let code = sp_last_error_code()
            let message =
                sp_last_error_message().map { pointer in
                    defer { sp_free_error_message(pointer) }
                    return String(cString: pointer)
                } ?? "failed"
            throw ModbusError(kind: ModbusError.kind(for: code), errno: code, message: message, operation: operation)
        case SP_ERR_ARG:
            throw ModbusError(kind: .invalidArgument, errno: EINVAL, message: "invalid argument", operation: operation)
        case SP_ERR_MEM:
            throw ModbusError(kind: .system, errno: ENOMEM, message: "out of memory", operation: operation)
        default:
            throw ModbusError(
                kind: .system,
                errno: 0,
                message: "not supported here (code \(result.rawValue))",
                operation: operation
            )
        }
    }
}

/// A real serial device opened and configured through libserialport, for serving a
/// register bank on an RS-485 adapter.
final class SerialDevice {
    private let port: OpaquePointer
    let descriptor: Int32
    let path: String

    init(path: String, settings: SerialSettings) throws(ModbusError) {
        try settings.validate()
        try SerialPortDiscovery.requireExists(path, "open \(path)")
        var found: OpaquePointer?
        try SerialPortDiscovery.check(sp_get_port_by_name(path, &found), "open \(path)")
        guard let found else {
            throw ModbusError(kind: .noSuchDevice, errno: ENOENT, message: "no such port", operation: "open \(path)")
        }
        do {
            try SerialPortDiscovery.check(sp_open(found, SP_MODE_READ_WRITE), "open \(path)")
            let operation = "configure \(path) for \(settings)"
            try SerialPortDiscovery.check(sp_set_baudrate(found, Int32(settings.baud)), operation)
            try SerialPortDiscovery.check(sp_set_bits(found, Int32(settings.dataBits)), operation)
            let parity: sp_parity =
                switch settings.parity {
                case .none: SP_PARITY_NONE
                case .even: SP_PARITY_EVEN
                case .odd: SP_PARITY_ODD
                }
            try SerialPortDiscovery.check(sp_set_parity(found, parity), operation)
            try SerialPortDiscovery.check(sp_set_stopbits(found, Int32(settings.stopBits)), operation)
            try SerialPortDiscovery.check(sp_set_flowcontrol(found, SP_FLOWCONTROL_NONE), operation)
            var handle: Int32 = -1
            try SerialPortDiscovery.check(sp_get_port_handle(found, &handle), operation)
            _ = fcntl(handle, F_SETFL, fcntl(handle, F_GETFL) | O_NONBLOCK)
            self.descriptor = handle
        } catch {
            sp_close(found)
            sp_free_port(found)
            throw error
        }
        self.port = found
        self.path = path
    }

    deinit {
        sp_close(port)
        sp_free_port(port)
    }
}

import Testing

@testable import ModbusBridge

@Suite("Serial port discovery")
struct SerialPortTests {
    @Test("listing ports works on a machine without adapters")
    func list() throws {
        let ports = try SerialPortDiscovery.list()
        for port in ports {
            #expect(port.path.hasPrefix("/dev/"))
            #expect(["usb", "native", "bluetooth"].contains(port.transport))
        }
    }

    @Test("a missing device is reported as such")
    func missing() {
        let error = #expect(throws: ModbusError.self) { try SerialPortDiscovery.info(path: "/dev/ttyNOPE9") }
        #expect(error?.kind == .noSuchDevice)
    }

    @Test("USB ids print as vendor:product")
    func usbID() {
        let info = SerialPortInfo(
            path: "/dev/ttyUSB0",
            description: "FT232R USB UART",
            transport: "usb",
            usbVendorID: 0x0403,
            usbProductID: 0x6001
        )
        #expect(info.usbID == "0403:6001")
    }
}

import ModbusBridge

/// One emulated bus: a Modbus server (pseudo-terminal, TCP or serial device) and its meters.
package struct EmulatedBus: Sendable {
    package let config: FleetConfig.Bus
    package let server: any ModbusServing
    package let meters: [EmulatedMeter]
    /// What a client opens: the link path, HOST:PORT or the device.
    package let address: String
    package let terminal: PseudoTerminal?
}

import AgentCore
import MeterEmulator
import ModbusBridge
import OperatorKit

extension OperatorError {
    /// The operator's view of a bus error: what happened on which device, and what to check.
    init(_ error: ModbusError, unit: UInt8? = nil, endpoint: ModbusEndpoint) {
        let unitText = unit.map { "unit \($0)" } ?? "the meter"
        let description: String
        switch error.kind {
        case .noSuchDevice:
            description =
                "\(endpoint): no such device. Is the adapter plugged in? `meter-agent ports` lists the serial ports found."
        case .permissionDenied:
            description =
                "\(endpoint): permission denied. Add your user to the dialout group (`sudo usermod -aG dialout $USER`, then log in again) or install hardware/udev/99-gridledger-rs485.rules."
        case .timeout:
            description =
                "no answer from \(unitText) on \(endpoint). Check the baud rate and parity, the unit address, and that A and B are not swapped; `meter-agent scan` finds the units that answer."
        case .badCRC, .badFrame:
            description =
                "garbled answer from \(unitText) on \(endpoint) (\(error.message)). Check the baud rate and parity, termination and biasing of the bus, and that one master polls it."
        case .exception(let exception):
            description =
                "\(unitText) on \(endpoint) answered \(exception) to \(error.operation). The profile may not match this meter model or firmware."
        case .connectionRefused:
            description =
                "\(endpoint): connection refused. Is the Modbus TCP server (or emulator) running on that host and port?"
        case .connectionLost:
            description = "\(endpoint): connection lost (\(error.message)). Check the cable or network and try again."
        case .invalidArgument:
            description = "\(error.operation): \(error.message)"
        case .system:
            description = "\(error)"
        }
        self.init(description)
    }
}

extension OperatorError {
    /// The operator's view of a failed SunSpec discovery: a bus error as any other, else what the
    /// device's map lacks.
    init(_ error: SunSpecError, unit: UInt8, endpoint: ModbusEndpoint) {
        switch error {
        case .bus(let busError):
            self.init(busError, unit: unit, endpoint: endpoint)
        default:
            self.init("unit \(unit) on \(endpoint): \(error)")
        }
    }
}

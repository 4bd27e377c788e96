import AgentCore
import ArgumentParser
import MeterEmulator
import ModbusBridge
import OperatorKit

/// `meter-agent scan`: finds which unit ids answer on a bus.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Find which unit ids answer on a bus, as installers locate meters.",
        discussion: """
            Sends one small read (input register 0) to each unit id in the range. A meter that \
            answers with data or with a Modbus exception is present; silence means no meter \
            at that address (or wrong baud rate or parity for the whole bus).

            Example: meter-agent scan --device /dev/ttyUSB0 --baud 9600 --units 1-32
            """
    )

    @OptionGroup var bus: BusOptions

    @Option(name: .long, help: "Unit ids to try: a range like 1-32, or a list like 1,2,5.")
    var units: String = "1-247"

    func validate() throws {
        try bus.requireConnection()
        _ = try parseUnits()
    }

    func run() async throws {
        let endpoint = try bus.endpoint(defaults: nil)
        // One attempt per unit: silence is the common answer during a scan.
        var options = bus.clientOptions()
        options.retry = .none
        let client = try ModbusClient(endpoint: endpoint, options: options)
        do {
            try await client.connect()
        } catch {
            throw OperatorError(error, endpoint: endpoint)
        }
        var found: [UInt8] = []
        for unit in try parseUnits() {
            do {
                let registers = try await client.readRegisters(.inputRegisters, address: 0, count: 2, unit: unit)
                print(
                    "unit \(unit): answers (input registers 0x0000-0x0001 = \(registers.map { String(format: "0x%04X", $0) }.joined(separator: " ")))"
                )
                found.append(unit)
            } catch  where error.kind == .timeout {
                continue
            } catch {
                if case .exception(let exception) = error.kind {
                    print("unit \(unit): answers (\(exception) for input register 0x0000)")
                    found.append(unit)
                } else if error.kind == .badCRC || error.kind == .badFrame {
                    print(
                        "unit \(unit): garbled answer (\(error.message)): a device is there, check baud rate and parity"
                    )
                    found.append(unit)
                } else {
                    throw OperatorError(error, unit: unit, endpoint: endpoint)
                }
            }
        }
        print(
            found.isEmpty
                ? "no unit answered on \(endpoint). Check baud rate, parity, wiring (A/B), and termination."
                : "\(found.count) unit(s) answered: \(found.map(String.init).joined(separator: ", "))"
        )
    }

    private func parseUnits() throws -> [UInt8] {
        var result: [UInt8] = []
        for part in units.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                (1...247).contains(low), (1...247).contains(high), low <= high
            else {
                throw ValidationError("--units '\(units)' must be unit ids 1-247 as a range (1-32) or list (1,2,5)")
            }
            result += (low...high).map(UInt8.init)
        }
        return result
    }
}

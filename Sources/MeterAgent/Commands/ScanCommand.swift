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

            With --sunspec, each unit is asked for its SunSpec map instead (the SunS marker at \
            register 40000, 0 or 50000) and the models in its chain are printed, with the \
            manufacturer, model and serial number of its common model.

            Examples:
              meter-agent scan --device /dev/ttyUSB0 --baud 9600 --units 1-32
              meter-agent scan --tcp 192.0.2.20:502 --units 1-10 --sunspec
            """
    )

    @OptionGroup var bus: BusOptions

    @Option(name: .long, help: "Unit ids to try: a range like 1-32, or a list like 1,2,5.")
    var units: String = "1-247"

    @Flag(name: .long, help: "Look for SunSpec devices and print the models each one has.")
    var sunspec = false

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
        if sunspec {
            try await scanSunSpec(client: client, endpoint: endpoint)
            return
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

    /// Discovery at every unit: its models, or why it is not a SunSpec device.
    private func scanSunSpec(client: ModbusClient, endpoint: ModbusEndpoint) async throws {
        var found: [UInt8] = []
        for unit in try parseUnits() {
            do {
                let device = try await SunSpecDiscovery(client: client, unit: unit).discover()
                print(Self.describe(device, unit: unit))
                found.append(unit)
            } catch {
                switch error {
                case .bus(let busError) where busError.kind == .timeout:
                    continue
                case .bus(let busError):
                    throw OperatorError(busError, unit: unit, endpoint: endpoint)
                default:
                    print("unit \(unit): \(error)")
                }
            }
        }
        print(
            found.isEmpty
                ? "no SunSpec device answered on \(endpoint)."
                : "\(found.count) SunSpec device(s): unit \(found.map(String.init).joined(separator: ", "))"
        )
    }

    /// `unit 1: SunSpec at 40000 — GridLedger Emulated SunSpec 203 (serial …)` and one line per model.
    static func describe(_ device: SunSpecDevice, unit: UInt8) -> String {
        var header = "unit \(unit): SunSpec map at register \(device.base)"
        if let common = device.common {
            header += ": \(common.manufacturer) \(common.model)"
            if !common.serialNumber.isEmpty { header += ", serial \(common.serialNumber)" }
            if !common.version.isEmpty { header += ", version \(common.version)" }
        }
        var lines = [header]
        let readable = device.readableModel()
        for model in device.models {
            let name = model.definition.map { "\($0.name) (\($0.label))" } ?? "not read by GridLedger"
            let mark = model == readable ? "   <- read by --sunspec" : ""
            lines.append("  model \(model.id) at \(model.address), length \(model.length): \(name)\(mark)")
        }
        lines.append(device.endMarker ? "  end marker" : "  no end marker: the map stops at an unanswered register")
        return lines.joined(separator: "\n")
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

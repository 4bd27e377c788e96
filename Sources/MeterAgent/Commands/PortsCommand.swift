import AgentCore
import ArgumentParser
import Foundation
import MeterEmulator
import ModbusBridge
import OperatorKit

/// `meter-agent ports`: lists serial ports with their USB ids.
struct PortsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ports",
        abstract: "List serial ports with USB vendor:product ids and serial numbers.",
        discussion:
            "Find your USB-RS485 adapter here: FTDI adapters show 0403:6001, CH340 ones 1a86:7523, CP210x ones 10c4:ea60."
    )

    @Flag(name: .long, help: "One JSON object a line.")
    var json = false

    func run() async throws {
        let ports: [SerialPortInfo]
        do {
            ports = try SerialPortDiscovery.list()
        } catch {
            throw OperatorError("cannot list serial ports: \(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for port in ports {
                print(String(decoding: try encoder.encode(port), as: UTF8.self))
            }
            return
        }
        guard !ports.isEmpty else {
            print("No serial ports found. Plug in the RS-485 adapter and check `dmesg` for its device name.")
            return
        }
        let rows =
            [["PATH", "TRANSPORT", "USB ID", "SERIAL", "DESCRIPTION"]]
            + ports.map {
                [$0.path, $0.transport, $0.usbID ?? "-", $0.serialNumber ?? "-", $0.description]
            }
        print(TextTable(rows: rows).rendered)
    }
}

/// Left-aligned columns separated by two spaces.
struct TextTable {
    let rows: [[String]]

    var rendered: String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

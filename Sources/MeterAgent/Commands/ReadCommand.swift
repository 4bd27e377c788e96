import AgentCore
import ArgumentParser
import Foundation
import MeterEmulator
import ModbusBridge
import OperatorKit

/// `meter-agent read`: reads a real or emulated meter and prints its measurands.
struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read a meter once or at an interval and print its decoded measurands.",
        discussion: """
            Reads every measurand of the meter's profile with the fewest requests the meter \
            allows, and prints them in their natural units (a table, or one JSON object a line \
            with --json), with the number of requests and the time spent on the bus.

            With --sunspec, no profile is needed: the agent finds the device's SunSpec map (the \
            SunS marker at register 40000, 0 or 50000), walks its chain of models and reads its \
            meter model (201-204, 211-214), or else its inverter model (101-103, 111-113), \
            applying the scale factors; points the device does not implement are shown as n/a.

            Examples:
              meter-agent read --device /dev/ttyUSB0 --unit 1 --profile sdm120 \\
                --baud 2400 --once
              meter-agent read --device /dev/ttyUSB0 --unit 1 --profile sdm630 \\
                --interval 5s --json
              meter-agent read --tcp 127.0.0.1:5020 --unit 1 --profile em24 --once
              meter-agent read --tcp 192.0.2.20:502 --unit 1 --sunspec --once
            """
    )

    @OptionGroup var bus: BusOptions
    @OptionGroup var profileOptions: ProfileOptions

    @Option(name: .long, help: "Unit id (Modbus address) of the meter, 1-247.")
    var unit: Int

    @Option(
        name: .long,
        help: "Meter profile name (a file in the profile directory), e.g. sdm630; sunspec is --sunspec."
    )
    var profile: String?

    @Flag(
        name: .long,
        help: "Read a SunSpec device without a profile: find its map and read its meter or inverter model."
    )
    var sunspec = false

    @Option(
        name: .customLong("sunspec-model"),
        help: "With --sunspec: the model to read when the device has several (e.g. 203)."
    )
    var sunspecModel: UInt16?

    @Flag(name: .long, help: "Read once and exit (the default unless --interval is given).")
    var once = false

    @Option(name: .long, help: "Read repeatedly at this interval (e.g. 1s, 500ms) until interrupted.")
    var interval: DurationArgument?

    @Option(name: .long, help: "Only these measurands (comma-separated names).")
    var only: String?

    @Flag(name: .long, help: "One JSON object a line instead of a table.")
    var json = false

    func validate() throws {
        try bus.requireConnection()
        guard (1...247).contains(unit) else { throw ValidationError("--unit must be 1 to 247, not \(unit)") }
        guard (profile != nil) != sunspec else {
            throw ValidationError("name the meter's --profile (e.g. sdm630), or give --sunspec for a SunSpec device")
        }
        if sunspecModel != nil, !sunspec { throw ValidationError("--sunspec-model goes with --sunspec") }
        if once, interval != nil { throw ValidationError("--once and --interval exclude each other; choose one") }
        if let interval, interval.duration < .milliseconds(10) {
            throw ValidationError("--interval must be at least 10ms")
        }
    }

    func run() async throws {
        // `--profile sunspec` (or `sunspec-ID`) is --sunspec, as in the agent file.
        let sunspecProfile = profile.flatMap { SunSpecMeterAccess.model(inProfileName: $0) }
        let named = try sunspecProfile == nil ? profile.map { try profileOptions.profile(named: $0) } : nil
        let endpoint = try bus.endpoint(defaults: named?.serial)
        let client = try ModbusClient(
            endpoint: endpoint,
            options: bus.clientOptions(),
            timings: bus.timings(unit: UInt8(unit))
        )
        let meterProfile: MeterProfile
        if let named {
            meterProfile = named
        } else {
            do {
                let device = try await SunSpecDiscovery(client: client, unit: UInt8(unit)).discover()
                meterProfile = try device.profile(model: sunspecModel ?? sunspecProfile ?? nil)
            } catch {
                throw OperatorError(error, unit: UInt8(unit), endpoint: endpoint)
            }
        }
        let names = try selectedNames(in: meterProfile)
        let reader = MeterReader(client: client, profile: meterProfile, unit: UInt8(unit), measurands: names)
        let printer = SnapshotPrinter(json: json, endpoint: endpoint)
        repeat {
            let snapshot: MeterSnapshot
            do {
                snapshot = try await reader.read()
            } catch {
                try await Self.explainFraming(after: error, endpoint: endpoint, unit: UInt8(unit), plan: reader.plan)
                throw OperatorError(error, unit: UInt8(unit), endpoint: endpoint)
            }
            printer.print(snapshot)
            if let interval { try await Task.sleep(for: interval.duration) }
        } while interval != nil
    }

    /// After a failure that a wrong TCP framing causes, asks once in the other framing and,
    /// if the meter answers there, says which flag to use instead.
    static func explainFraming(
        after error: ModbusError,
        endpoint: ModbusEndpoint,
        unit: UInt8,
        plan: ReadPlan
    ) async throws {
        guard FramingProbe.mayBeWrongFraming(error), let request = plan.requests.first,
            let other = await FramingProbe.otherFramingAnswers(
                endpoint,
                unit: unit,
                table: request.table,
                address: request.address
            )
        else { return }
        throw OperatorError(
            "unit \(unit) on \(endpoint) did not answer in this framing but answers \(Self.framingName(other)); use \(FramingProbe.flag(for: other))"
        )
    }

    private static func framingName(_ endpoint: ModbusEndpoint) -> String {
        if case .rtuOverTCP = endpoint { return "RTU frames over TCP (a serial-to-Ethernet converter)" }
        return "Modbus TCP"
    }

    private func selectedNames(in profile: MeterProfile) throws -> Set<String>? {
        guard let only else { return nil }
        let names = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let unknown = names.filter { profile.measurand(named: $0) == nil }
        guard unknown.isEmpty else {
            throw ValidationError(
                "--only: \(profile.name) has no measurand \(unknown.sorted().joined(separator: ", ")); it has: \(profile.measurands.map(\.name).joined(separator: ", "))"
            )
        }
        return names
    }
}

/// Prints snapshots as an aligned table or as JSON lines.
struct SnapshotPrinter {
    let json: Bool
    let endpoint: ModbusEndpoint

    func print(_ snapshot: MeterSnapshot) {
        Swift.print(json ? jsonLine(snapshot) : table(snapshot))
    }

    func table(_ snapshot: MeterSnapshot) -> String {
        let time = snapshot.takenAt.formatted(.iso8601)
        var lines = ["\(snapshot.profile) unit \(snapshot.unit) on \(endpoint) at \(time)"]
        let nameWidth = snapshot.measurements.map(\.measurand.name.count).max() ?? 0
        for measurement in snapshot.measurements {
            let measurand = measurement.measurand
            let value = Self.format(measurement.value)
            lines.append(
                "  " + measurand.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    + "  " + String(repeating: " ", count: max(0, 14 - value.count)) + value
                    + " " + measurand.unit.padding(toLength: 6, withPad: " ", startingAt: 0)
                    + (measurand.obis ?? "")
            )
        }
        lines.append(String(format: "%d requests, bus time %.1f ms", snapshot.requests, snapshot.busTime.milliseconds))
        return lines.joined(separator: "\n")
    }

    func jsonLine(_ snapshot: MeterSnapshot) -> String {
        // JSON has no NaN or infinity: a meter sending such a float shows as null.
        var values: [String: Any] = [:]
        for measurement in snapshot.measurements {
            values[measurement.measurand.name] = measurement.value.isFinite ? measurement.value : NSNull()
        }
        let object: [String: Any] = [
            "time": snapshot.takenAt.formatted(.iso8601),
            "profile": snapshot.profile,
            "unit": Int(snapshot.unit),
            "requests": snapshot.requests,
            "bus_ms": (snapshot.busTime.milliseconds * 10).rounded() / 10,
            "values": values,
        ]
        do {
            return String(
                decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
                as: UTF8.self
            )
        } catch {
            return #"{"error":"cannot encode snapshot: \#(error)"}"#
        }
    }

    /// Up to 3 decimals, trailing zeros kept short: 230.1, 50.02, 1234.5.
    static func format(_ value: Double) -> String {
        // NaN: the meter sent its "not available" value (the profile's `nan`) or no scale.
        guard value.isFinite else { return value.isNaN ? "n/a" : "\(value)" }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

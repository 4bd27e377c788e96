import AgentCore
import ArgumentParser
import ModbusBridge
import OperatorKit

/// `meter-agent identify`: which known map fits the meter at a unit.
struct IdentifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Find which meter profile (or SunSpec model) fits the meter at a unit.",
        discussion: """
            For installers who do not know what is on the bus: tries SunSpec discovery, then \\
            reads each known profile's registers once and keeps those whose values are \\
            plausible (phase voltages 100-300 V, frequency 45-65 Hz, counters not negative, \\
            power factors -1...1; values the meter marks unavailable are absent). A profile that \\
            gets an exception or no answer is ruled out. The profiles that fit are printed best \\
            first (the one reading the most values), with the evidence; --verbose also says \\
            which were ruled out and why. Each request waits --timeout once, \\
            without retries, so a profile that does not fit costs little time.

            Examples:
              meter-agent identify --device /dev/ttyUSB0 --baud 9600 --unit 1
              meter-agent identify --tcp 192.0.2.20:502 --unit 1 --verbose
            """
    )

    @OptionGroup var bus: BusOptions
    @OptionGroup var profileOptions: ProfileOptions

    @Option(name: .long, help: "Unit id (Modbus address) of the meter, 1-247.")
    var unit: Int

    @Flag(name: .long, help: "Also list the candidates ruled out, with the reason.")
    var verbose = false

    func validate() throws {
        try bus.requireConnection()
        guard (1...247).contains(unit) else { throw ValidationError("--unit must be 1 to 247, not \(unit)") }
    }

    func run() async throws {
        let library = try profileOptions.library()
        let endpoint = try bus.endpoint(defaults: nil)
        var options = bus.clientOptions()
        options.retry = .none
        let client = try ModbusClient(endpoint: endpoint, options: options)
        do {
            try await client.connect()
        } catch {
            throw OperatorError(error, unit: UInt8(unit), endpoint: endpoint)
        }
        let identifier = MeterIdentifier(client: client, unit: UInt8(unit), profiles: Array(library.profiles.values))
        let results = await identifier.identify()
        print(Self.report(results, unit: UInt8(unit), endpoint: endpoint, verbose: verbose))
        if !results.contains(where: \.fits) { throw ExitCode(1) }
    }

    /// The lines `identify` prints.
    static func report(_ results: [IdentifyResult], unit: UInt8, endpoint: ModbusEndpoint, verbose: Bool) -> String {
        let fits = results.filter(\.fits)
        let ruledOut = results.filter { !$0.fits }
        var lines: [String] = []
        if fits.isEmpty {
            lines.append(
                "unit \(unit) on \(endpoint): no known profile fits (nor a SunSpec map). Check the unit id, baud rate and parity; a meter without a profile needs one (docs/METER-PROFILES.md)."
            )
        } else {
            lines.append("unit \(unit) on \(endpoint): \(fits.count == 1 ? "this fits" : "these fit, best first"):")
            for (index, result) in fits.enumerated() {
                guard case .fits(let values, let evidence) = result.verdict else { continue }
                let what = result.profile.map { " (\($0.manufacturer) \($0.model))" } ?? ""
                lines.append(
                    "  \(index + 1). \(result.name)\(what): \(([ "\(values) values"] + evidence).joined(separator: ", "))"
                )
            }
        }
        if verbose {
            for result in ruledOut {
                guard case .ruledOut(let reason) = result.verdict else { continue }
                lines.append("  ruled out \(result.name): \(reason)")
            }
        } else if !ruledOut.isEmpty {
            lines.append(
                "  ruled out: \(ruledOut.map(\.name).joined(separator: ", ")) (--verbose says why)"
            )
        }
        if let best = fits.first {
            let flag = best.name.hasPrefix("sunspec") ? "--sunspec" : "--profile \(best.name)"
            lines.append("read it with: meter-agent read … --unit \(unit) \(flag)")
        }
        return lines.joined(separator: "\n")
    }
}

import AgentCore
import ArgumentParser
import MeterEmulator
import ModbusBridge
import OperatorKit

/// Where and how to reach a meter: the flags `read` and `scan` share.
struct BusOptions: ParsableArguments {
    @Option(name: .long, help: "Serial device of an RS-485 adapter, e.g. /dev/ttyUSB0 (Modbus RTU).")
    var device: String?

    @Option(name: .long, help: "Modbus TCP server, HOST:PORT.")
    var tcp: String?

    @Option(
        name: .customLong("rtu-tcp"),
        help: "RTU frames over TCP (a serial-to-Ethernet converter in transparent mode), HOST:PORT."
    )
    var rtuOverTCP: String?

    @Option(name: .long, help: "Baud rate (default: the meter profile's, else 9600).")
    var baud: Int?

    @Option(name: .long, help: "Parity: N, E or O (default: the meter profile's, else N).")
    var parity: String?

    @Option(name: .long, help: "Data bits, 7 or 8.")
    var dataBits: Int?

    @Option(name: .long, help: "Stop bits, 1 or 2.")
    var stopBits: Int?

    @Flag(name: .long, help: "Put the UART in kernel RS-485 mode (TIOCSRS485), for adapters whose driver supports it.")
    var rs485 = false

    @Option(name: .long, help: "RTS direction control for adapters without automatic direction: up or down.")
    var rts: RTSMode?

    @Option(name: .long, help: "Response timeout (e.g. 500ms, 1s).")
    var timeout: DurationArgument = DurationArgument(.milliseconds(500), text: "500ms")

    @Option(name: .long, help: "Attempts per request before giving up (1 = no retry).")
    var attempts: Int = 3

    @Option(
        name: .long,
        help:
            "Silence on the line before each request, after the previous frame (e.g. 20ms), for meters that miss requests sent right after another frame."
    )
    var interFrameDelay: DurationArgument = DurationArgument(.zero, text: "0ms")

    /// True when a connection flag was given.
    var hasConnection: Bool { [device, tcp, rtuOverTCP].contains { $0 != nil } }

    /// For commands that need a connection from the flags.
    func requireConnection() throws {
        guard hasConnection else {
            throw ValidationError(
                "name exactly one meter connection: --device PATH, --tcp HOST:PORT or --rtu-tcp HOST:PORT"
            )
        }
    }

    func validate() throws {
        let chosen = [device, tcp, rtuOverTCP].compactMap { $0 }
        guard chosen.count <= 1 else {
            throw ValidationError(
                "name exactly one meter connection: --device PATH, --tcp HOST:PORT or --rtu-tcp HOST:PORT"
            )
        }
        if let parity, Parity(flag: parity) == nil {
            throw ValidationError("--parity '\(parity)' is not a parity; use N, E or O")
        }
        if let baud, !SerialSettings.supportedBaudRates.contains(baud) {
            throw ValidationError(
                "--baud \(baud) is not supported; use one of \(SerialSettings.supportedBaudRates.map(String.init).joined(separator: ", "))"
            )
        }
        if let dataBits, !(7...8).contains(dataBits) {
            throw ValidationError("--data-bits must be 7 or 8, not \(dataBits)")
        }
        if let stopBits, !(1...2).contains(stopBits) {
            throw ValidationError("--stop-bits must be 1 or 2, not \(stopBits)")
        }
        guard (1...20).contains(attempts) else {
            throw ValidationError("--attempts must be 1 to 20, not \(attempts)")
        }
        guard interFrameDelay.duration <= UnitTiming.maxDuration, timeout.duration <= UnitTiming.maxDuration else {
            throw ValidationError("--timeout and --inter-frame-delay must be at most 60s")
        }
        if let tcp { _ = try HostPort(parsing: tcp, flag: "--tcp") }
        if let rtuOverTCP { _ = try HostPort(parsing: rtuOverTCP, flag: "--rtu-tcp") }
    }

    /// Where the meter is, from the connection flag.
    func address() throws -> BusAddress {
        try BusAddress(device: device, tcp: tcp, rtuOverTCP: rtuOverTCP, names: ("--device", "--tcp", "--rtu-tcp"))
    }

    /// Serial settings from the flags over the profile's defaults.
    func serialSettings(defaults: SerialDefaults?) -> SerialSettings {
        let base = defaults ?? SerialDefaults()
        return SerialSettings(
            baud: baud ?? base.baud,
            parity: parity.flatMap(Parity.init(flag:)) ?? base.parity,
            dataBits: dataBits ?? base.dataBits,
            stopBits: stopBits ?? base.stopBits,
            rs485: rs485,
            rts: rts ?? .none
        )
    }

    /// The endpoint, with serial settings from the flags over the profile's defaults.
    func endpoint(defaults: SerialDefaults?) throws -> ModbusEndpoint {
        try address().endpoint(serial: serialSettings(defaults: defaults))
    }

    func clientOptions() -> ClientOptions {
        ClientOptions(responseTimeout: timeout.duration, retry: RetryPolicy(maxAttempts: attempts))
    }

    /// `--inter-frame-delay` for `unit`, when one is given.
    func timings(unit: UInt8) -> [UInt8: UnitTiming] {
        interFrameDelay.duration > .zero ? [unit: UnitTiming(interFrameDelay: interFrameDelay.duration)] : [:]
    }
}

extension RTSMode: ExpressibleByArgument {}

/// `--profiles DIR`, shared by the commands that load meter profiles.
struct ProfileOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Directory of meter profiles (*.yaml). Default: $GRIDLEDGER_METERS, ./hardware/meters, or the installed set."
    )
    var profiles: String?

    func library() throws -> ProfileLibrary {
        try ProfileLibrary.locate(explicit: profiles)
    }

    func profile(named name: String) throws -> MeterProfile {
        try library().profile(named: name)
    }
}

import AsyncHTTPClient
import Foundation
import Glibc
import LedgerLite
import LedgerStore

/// An emulated fleet at scale, with the release binaries as separate processes (their CPU
/// and resident memory are the figures):
/// - `meter-agent emulate` serving 1,000 meters on five Modbus TCP buses, read by one
///   `meter-agent run` polling all of them every 10 s and forwarding to an `edge-gateway serve`
///   with the 1,000 meters enrolled: the emulator's CPU (% of one core) and resident memory
///   beside the same emulator's before any client read it; the agent's CPU and memory, and its
///   late polls;
/// - the emulator's descriptors and resident memory before and after 10,000 client
///   connections (reads, requests abandoned halfway, resets, connections that say nothing).
enum FleetBenchmarks {
    static let buses = 5
    static let metersPerBus = 200
    static let interval = 10
    static let window: Duration = .seconds(30)

    static func run() async throws {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let gatewayBinary = binaries.appendingPathComponent("edge-gateway").path
        let agentBinary = binaries.appendingPathComponent("meter-agent").path
        guard FileManager.default.isExecutableFile(atPath: gatewayBinary),
            FileManager.default.isExecutableFile(atPath: agentBinary)
        else {
            print("edge-gateway or meter-agent missing beside the benchmark binary: build all products in release")
            return
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await fleet(gatewayBinary: gatewayBinary, agentBinary: agentBinary, http: http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func fleet(gatewayBinary: String, agentBinary: String, http: HTTPClient) async throws {
        let gateway = try await GatewayBenchmarks.GatewayUnderTest(binary: gatewayBinary, http: http)
        defer { gateway.stop() }
        let work = gateway.work
        let ports = try (0..<buses).map { _ in try freePort() }
        let fleetFile = work + "/fleet.yaml"
        try
            (["seed: 7", "speed: 1", "buses:"]
            + ports.flatMap { port in
                [
                    "  - tcp: 127.0.0.1:\(port)", "    meters:",
                    "      - { units: 1-\(metersPerBus), profiles: [sdm630, sdm120, em24], roles: [consumer, consumer, pv] }",
                ]
            }).joined(separator: "\n").write(toFile: fleetFile, atomically: true, encoding: .utf8)
        let emulator = try GatewayBenchmarks.start(
            agentBinary,
            ["emulate", "--config", fleetFile, "--log-level", "warning"]
        )
        defer { GatewayBenchmarks.stopProcess(emulator) }
        for port in ports {
            try await waitUntilListening(port: port, process: emulator)
        }
        let pid = emulator.processIdentifier
        try await Task.sleep(for: .seconds(2))
        let idle = try await ProcessUsage.measure(pid, over: .seconds(10))
        print("emulator: \(buses * metersPerBus) meters on \(buses) buses, \(try descriptorCount(pid)) descriptors")

        // A key per meter, enrolled at the gateway, and one agent for all of them.
        let identities = (0..<buses * metersPerBus).map { _ in SigningIdentity() }
        try FileManager.default.createDirectory(atPath: work + "/keys", withIntermediateDirectories: true)
        for (index, identity) in identities.enumerated() {
            try KeyFile.writePrivateKey(
                identity,
                to: work + "/keys/bus\(index / metersPerBus)-\(index % metersPerBus + 1).key"
            )
        }
        let enrolling = ContinuousClock.now
        try await gateway.endpoint.enrollInBulk(identities)
        print(
            "enrolled \(identities.count) meters by POST /v1/admin/enrollments in \(String(format: "%.1f", (ContinuousClock.now - enrolling).seconds)) s"
        )
        let agentFile = work + "/agent.yaml"
        try
            (["gateway: \(gateway.base)", "data: agent-data", "interval: \(interval)s", "buses:"]
            + ports.flatMap { port in
                [
                    "  - tcp: 127.0.0.1:\(port)", "    meters:",
                    "      - { units: 1-\(metersPerBus), profiles: [sdm630, sdm120, em24], key: \"keys/bus{bus}-{unit}.key\" }",
                ]
            }).joined(separator: "\n").write(toFile: agentFile, atomically: true, encoding: .utf8)
        let agentLog = work + "/agent.log"
        let agent = try GatewayBenchmarks.start(
            agentBinary,
            ["run", "--config", agentFile, "--log-format", "json", "--log-file", agentLog]
        )
        defer { GatewayBenchmarks.stopProcess(agent) }
        try await Task.sleep(for: .seconds(interval + 2))  // start-up and the first round
        async let emulatorLoad = ProcessUsage.measure(pid, over: window)
        let agentLoad = try await ProcessUsage.measure(agent.processIdentifier, over: window)
        let loaded = try await emulatorLoad
        GatewayBenchmarks.stopProcess(agent)
        let stops = try String(contentsOfFile: agentLog, encoding: .utf8).split(separator: "\n")
            .compactMap { line -> [String: String]? in
                guard line.contains("bus polling stopped") else { return nil }
                return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            }
        let polls = stops.compactMap { Int($0["polls"] ?? "") }.reduce(0, +)
        let late = stops.compactMap { Int($0["polls.late"] ?? "") }.reduce(0, +)
        let acknowledged = try await gateway.endpoint.acceptedReadings()
        print(
            "agent: \(polls) polls of \(identities.count) meters every \(interval) s, \(late) late; \(acknowledged) readings acknowledged by the gateway"
        )
        Bench.report(
            "emulator CPU, 1,000 meters polled every \(interval) s",
            value: loaded.cpuPercent,
            unit: "% of a core",
            reference: ("the same emulator unread", idle.cpuPercent),
            target: "< 25 %"
        )
        Bench.report(
            "emulator resident memory, 1,000 meters polled",
            value: loaded.residentMiB,
            unit: "MiB",
            reference: ("the same emulator unread", idle.residentMiB),
            target: "< 100 MB"
        )
        Bench.report(
            "agent CPU, 1,000 meters on 5 buses every \(interval) s",
            value: agentLoad.cpuPercent,
            unit: "% of a core",
            reference: ("the emulator it polls", loaded.cpuPercent)
        )
        Bench.report(
            "agent resident memory, 1,000 meters",
            value: agentLoad.residentMiB,
            unit: "MiB",
            reference: ("the emulator it polls", loaded.residentMiB)
        )
        Bench.report(
            "agent late polls, 1,000 meters",
            value: Double(late),
            unit: "polls",
            reference: ("polls", Double(polls)),
            target: "0"
        )
        try await connectionChurn(pid: pid, port: ports[0])
    }

    /// 10,000 connections one after another to one bus: the emulator's descriptors and
    /// resident memory before and after.
    static func connectionChurn(pid: Int32, port: Int) async throws {
        let connections = 10_000
        let descriptorsBefore = try descriptorCount(pid)
        let residentBefore = Double(GatewayBenchmarks.residentKiB(pid)) / 1024
        var answered = 0
        let started = ContinuousClock.now
        for index in 0..<connections {
            let unit = UInt8(1 + index % metersPerBus)
            let function: UInt8 = (unit - 1) % 3 == 2 ? 0x03 : 0x04  // EM24: holding registers
            let request: [UInt8] = [
                UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF), 0, 0, 0, 6, unit, function, 0, 0, 0, 2,
            ]
            let socket = try RawSocket(port: port)
            switch index % 10 {
            case 7:
                try socket.send(Array(request.prefix(5)))
                socket.close(reset: index % 20 == 7)
            case 9:
                socket.close(reset: false)
            default:
                try socket.send(request)
                if try socket.receive(13).count == 13 { answered += 1 }
                socket.close(reset: false)
            }
        }
        let elapsed = (ContinuousClock.now - started).seconds
        try await Task.sleep(for: .seconds(1))
        let descriptorsAfter = try descriptorCount(pid)
        let residentAfter = Double(GatewayBenchmarks.residentKiB(pid)) / 1024
        print(
            "10,000 connections in \(String(format: "%.1f", elapsed)) s: \(answered) of 8,000 reads answered, 2,000 abandoned or reset"
        )
        Bench.report(
            "emulator descriptors after 10,000 connections",
            value: Double(descriptorsAfter),
            unit: "",
            reference: ("before", Double(descriptorsBefore)),
            target: "ratio 1.00"
        )
        Bench.report(
            "emulator resident memory after 10,000 connections",
            value: residentAfter,
            unit: "MiB",
            reference: ("before", residentBefore)
        )
    }

    static func descriptorCount(_ pid: Int32) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
    }

    /// A port the kernel has just handed out and released.
    static func freePort() throws -> Int {
        let socket = try RawSocket.bound()
        defer { socket.close(reset: false) }
        return socket.localPort
    }

    static func waitUntilListening(port: Int, process: Process) async throws {
        for _ in 0..<600 {
            guard process.isRunning else { throw GatewayBenchmarks.BenchFailure("the emulator stopped") }
            if let socket = try? RawSocket(port: port) {
                socket.close(reset: false)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw GatewayBenchmarks.BenchFailure("the emulator did not listen on \(port)")
    }
}

/// A process's CPU time and resident memory over a window.
struct ProcessUsage {
    var cpuPercent: Double
    var residentMiB: Double

    static func measure(_ pid: Int32, over window: Duration) async throws -> ProcessUsage {
        let before = try cpuTicks(pid)
        let started = ContinuousClock.now
        try await Task.sleep(for: window)
        let ticks = try cpuTicks(pid) - before
        let seconds = (ContinuousClock.now - started).seconds
        return ProcessUsage(
            cpuPercent: 100 * Double(ticks) / Double(sysconf(Int32(_SC_CLK_TCK))) / seconds,
            residentMiB: Double(GatewayBenchmarks.residentKiB(pid)) / 1024
        )
    }

    /// utime + stime from /proc/PID/stat, in clock ticks.
    static func cpuTicks(_ pid: Int32) throws -> Int {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command name (which may hold spaces, so split after its ')').
        guard let close = stat.lastIndex(of: ")") else { throw GatewayBenchmarks.BenchFailure("bad /proc stat") }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else {
            throw GatewayBenchmarks.BenchFailure("bad /proc stat")
        }
        return user + system
    }
}

/// A blocking IPv4 TCP socket on loopback, for clients that behave as the benchmark says.
struct RawSocket {
    let descriptor: Int32

    /// Connected to 127.0.0.1:`port`, with a 5 s receive timeout.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw GatewayBenchmarks.BenchFailure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw GatewayBenchmarks.BenchFailure("connect to 127.0.0.1:\(port): errno \(code)")
        }
    }

    private init(descriptor: Int32) { self.descriptor = descriptor }

    /// Bound to 127.0.0.1 on a port the kernel picks.
    static func bound() throws -> RawSocket {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard descriptor >= 0, bound == 0 else { throw GatewayBenchmarks.BenchFailure("bind: errno \(errno)") }
        return RawSocket(descriptor: descriptor)
    }

    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw GatewayBenchmarks.BenchFailure("send: errno \(errno)") }
    }

    /// Up to `count` bytes: fewer when the peer closes or stays silent for 5 s.
    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let got = bytes[received...].withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { break }
            received += got
        }
        return Array(bytes[0..<received])
    }

    /// Closes; with `reset`, the peer gets a reset instead of an orderly end.
    func close(reset: Bool) {
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(descriptor)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

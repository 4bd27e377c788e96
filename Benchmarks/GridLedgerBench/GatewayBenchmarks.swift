import AsyncHTTPClient
import Foundation
import GatewayCore
import GridAPI
import GridTLS
import LedgerLite
import LedgerStore
import Logging
import NIOCore
import NIOSSL
import OperatorKit
import ServiceLifecycle

/// Gateway and agent figures, on loopback:
/// - ingest of signed readings with durable acknowledgement from many concurrent agents,
///   as a ratio to Ed25519 verifications per second on all cores in the same run; the
///   gateway runs in this process (`Gateway` served by `makeServiceGroup` on 127.0.0.1,
///   a fresh data directory), the agents are HTTP clients; then the same load over HTTPS,
///   as a ratio to the plain figure;
/// - gateway resident memory with 10,000 enrolled meters reporting every second, beside
///   the idle gateway's; the agent's resident memory beside the idle emulator's. These
///   measure a process's resident set, so they start the release `edge-gateway serve` and
///   `meter-agent` binaries beside the benchmark binary.
enum GatewayBenchmarks {
    static func run() async throws {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let gatewayBinary = binaries.appendingPathComponent("edge-gateway").path
        let agentBinary = binaries.appendingPathComponent("meter-agent").path
        // One connection per simulated agent, as real agents each have their own (the
        // client's default pool would funnel every agent through 8 connections).
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await ingest(http: http)
            // The memory figures are the resident sets of separate processes: real binaries.
            if FileManager.default.isExecutableFile(atPath: gatewayBinary),
                FileManager.default.isExecutableFile(atPath: agentBinary)
            {
                try await memory(gatewayBinary: gatewayBinary, agentBinary: agentBinary, http: http)
            } else {
                print(
                    "edge-gateway or meter-agent missing beside the benchmark binary, so no memory figures: build all products in release (make bench does)"
                )
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    // MARK: ingest

    /// The ingest figure over plain HTTP, then the same load over HTTPS (`serve --tls` with a
    /// certificate as `init` makes it, the clients trusting it as their CA file) beside it.
    static func ingest(http: HTTPClient) async throws {
        let plain = try await ingest(http: http, tls: false)
        Bench.report(
            "gateway ingest, \(plain.agents) agents, durable ack",
            value: plain.rate,
            unit: "readings/s",
            reference: ("Ed25519 verifications on \(plain.cores) cores", plain.verifyRate),
            target: "ratio ≥ 0.9"
        )
        Bench.report(
            "chain store bytes per entry after that ingest (WAL folded in)",
            value: plain.storedBytesPerEntry,
            unit: "B",
            reference: ("a signed reading's bytes", Double(plain.signedReadingBytes)),
            target: "≤ signed + 60 (issue 14)"
        )
        let overTLS = try await ingest(http: http, tls: true)
        Bench.report(
            "gateway ingest over TLS, \(overTLS.agents) agents, durable ack",
            value: overTLS.rate,
            unit: "readings/s",
            reference: ("plain HTTP ingest above", plain.rate),
            target: "ratio ≥ 0.8"
        )
    }

    /// One ingest run on a fresh gateway, served over HTTPS when `tls`.
    static func ingest(http: HTTPClient, tls: Bool) async throws -> IngestFigure {
        let work = try makeWorkDirectory("gl-bench")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let directory = DataDirectory(work + "/gw")
        try await directory.initialise()
        var identity: TLSIdentity?
        var clientTLS: TLSConfiguration?
        if tls {
            try directory.directory.writeSelfSignedCertificate(hostnames: ["127.0.0.1"], subject: "GridLedger bench")
            identity = try TLSIdentity(
                certificatePath: directory.directory.tlsCertificatePath,
                keyPath: directory.directory.tlsKeyPath
            )
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(directory.directory.tlsCertificatePath)
            clientTLS = configuration
        }
        // As `serve --seal-size 2000 --seal-interval 1s`.
        let config = ChainWriterConfig(sealSize: 2000, sealIntervalMs: 1000)
        var figure = try await withInProcessGateway(directory: directory, config: config, tls: identity) {
            server,
            base in
            try await ingest(
                server: server,
                endpoint: GatewayEndpoint(base: base, token: server.token, http: http, tls: clientTLS)
            )
        }
        // The gateway is closed: what the store holds on disk, per entry, once SQLite's
        // write-ahead log (up to about 4 MiB whatever the chain's length) is folded in.
        let store = try ChainStore(path: directory.chainPath, check: .structure)
        guard try store.checkpointWAL() else { throw WALStillInUse(path: directory.chainPath) }
        let entries = try store.entryCount()
        let bytes = try [directory.chainPath, directory.chainPath + "-wal"].reduce(Int64(0)) { total, path in
            guard FileManager.default.fileExists(atPath: path) else { return total }
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
            return total + (size?.int64Value ?? 0)
        }
        figure.storedBytesPerEntry = entries == 0 ? 0 : Double(bytes) / Double(entries)
        if !tls { try archiveFigures(directory, work: work, entries: entries, storeBytes: bytes) }
        return figure
    }

    /// The same store archived (`edge-gateway archive --uncheckpointed`, every block the
    /// resume snapshot allows): the live store's bytes in use per reading of the chain after
    /// it, and the segments' bytes per archived entry, beside the bytes per entry before.
    static func archiveFigures(_ directory: DataDirectory, work: String, entries: UInt64, storeBytes: Int64) throws {
        let store = try ChainStore(path: directory.chainPath, check: .none)
        let before = try store.bytesInUse()
        let summary = try GatewayArchive.run(
            directory,
            options: .init(before: Int64.max, outDirectory: work + "/archive", uncheckpointed: true)
        )
        let after = try store.bytesInUse()
        let segmentBytes = summary.segments.reduce(0) { $0 + $1.bytes }
        Bench.report(
            "chain store bytes in use per entry after archiving \(summary.entries) of \(entries) entries",
            value: Double(after) / Double(max(1, entries)),
            unit: "B",
            reference: ("bytes in use per entry before archiving", Double(before) / Double(max(1, entries))),
            target: "the pruned readings' rows freed for reuse"
        )
        Bench.report(
            "archive segment bytes per archived entry (zlib)",
            value: Double(segmentBytes) / Double(max(1, summary.entries)),
            unit: "B",
            reference: ("chain store bytes per entry before archiving", Double(storeBytes) / Double(max(1, entries))),
            target: "below the store's"
        )
    }

    struct WALStillInUse: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path): a connection still reads the write-ahead log; it cannot be folded in" }
    }

    /// What one ingest run measured.
    struct IngestFigure {
        var agents: Int
        var cores: Int
        /// Readings accepted per second.
        var rate: Double
        /// Ed25519 verifications per second on every core, the mean of the run's references.
        var verifyRate: Double
        /// The size of one signed reading of the load (its envelope).
        var signedReadingBytes: Int
        /// The chain store's bytes on disk per stored entry, once the gateway is closed.
        var storedBytesPerEntry: Double = 0
    }

    /// The timed load: 64 agents posting pre-signed batches of 100 readings.
    static func ingest(server: Gateway, endpoint: GatewayEndpoint) async throws -> IngestFigure {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let agents = 64
        let rounds = 4
        let batchesPerRound = 5
        let batchSize = 100
        let meters = (0..<agents).map { _ in SigningIdentity() }
        // Enrolment is set-up, not measured: straight through the writer.
        for meter in meters { _ = try await server.writer.enroll(meter.publicIdentity, role: .consumer) }
        // Sign everything first: the gateway's work is what is measured.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let bodies: [[Data]] = try meters.map { meter in
            try (0..<rounds * batchesPerRound).map { batch in
                let records = try (0..<batchSize).map { index -> SignedRecord in
                    let sequence = UInt64(batch * batchSize + index + 1)
                    let reading = try Reading(
                        meter: meter.id,
                        sequence: sequence,
                        timestamp: now + Int64(sequence),
                        values: [
                            MeasuredValue(.energyImportWh, Int64(sequence)),
                            MeasuredValue(.activePowerW, 500),
                            MeasuredValue(.voltageL1dV, 2300),
                        ]
                    )
                    return try SignedRecord.sign(.reading(reading), with: meter)
                }
                return try JSONEncoder().encode(IngestBatch(signed: records))
            }
        }
        let signedReadingBytes = try SignedRecord.sign(
            .reading(
                try Reading(
                    meter: meters[0].id,
                    sequence: 1,
                    timestamp: now,
                    values: [
                        MeasuredValue(.energyImportWh, 1), MeasuredValue(.activePowerW, 500),
                        MeasuredValue(.voltageL1dV, 2300),
                    ]
                )
            ),
            with: meters[0]
        ).bytes.count
        // The machine's speed drifts by ±15 % within seconds, so the ingest runs in rounds
        // with the reference measured before each round and after the last (the gateway
        // idle by then), and the ratio uses the mean of those. The load generator shares
        // the two cores: its work is kept small (bodies encoded beforehand, answers not
        // decoded while timing; the total is checked afterwards with one GET /v1/meters).
        var references = [try Bench.ed25519VerificationsPerSecond(threads: cores, perThread: 5000)]
        let clock = ContinuousClock()
        var elapsed = 0.0
        for round in 0..<rounds {
            let started = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for agentBodies in bodies {
                    group.addTask {
                        for body in agentBodies[round * batchesPerRound..<(round + 1) * batchesPerRound] {
                            _ = try await endpoint.post("/v1/readings", body: body)
                        }
                    }
                }
                try await group.waitForAll()
            }
            elapsed += (clock.now - started).seconds
            // Let the gateway seal and archive the round's tail first (seal interval 1 s),
            // so it does not slow the reference down.
            try await Task.sleep(for: .milliseconds(1500))
            references.append(try Bench.ed25519VerificationsPerSecond(threads: cores, perThread: 5000))
        }
        let expected = agents * rounds * batchesPerRound * batchSize
        let accepted = try await endpoint.acceptedReadings()
        if accepted != expected { print("warning: \(accepted) of \(expected) readings accepted") }
        let verifyRate = references.reduce(0, +) / Double(references.count)
        print(
            "Ed25519 on \(cores) cores between the rounds: \(references.map { String(Int($0)) }.joined(separator: ", ")) /s"
        )
        return IngestFigure(
            agents: agents,
            cores: cores,
            rate: Double(accepted) / elapsed,
            verifyRate: verifyRate,
            signedReadingBytes: signedReadingBytes
        )
    }

    // MARK: memory

    static func memory(gatewayBinary: String, agentBinary: String, http: HTTPClient) async throws {
        let gateway = try await GatewayUnderTest(binary: gatewayBinary, http: http)
        defer { gateway.stop() }
        try await Task.sleep(for: .seconds(1))
        let idle = residentKiB(gateway.process.processIdentifier)

        let meterCount = 10_000
        let meters = (0..<meterCount).map { _ in SigningIdentity() }
        let enrollStart = ContinuousClock.now
        try await gateway.enroll(meters)
        print(
            "enrolled \(meterCount) meters in \(String(format: "%.1f", (ContinuousClock.now - enrollStart).seconds)) s"
        )

        // 100 agents of 100 meters; every second each agent sends one reading per meter.
        let seconds = 20
        let groups = stride(from: 0, to: meterCount, by: 100).map { Array(meters[$0..<min($0 + 100, meterCount)]) }
        let clock = ContinuousClock()
        let start = clock.now
        var accepted = 0
        for second in 1...seconds {
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            accepted += try await withThrowingTaskGroup(of: Int.self) { group in
                for agent in groups {
                    group.addTask {
                        let records = try agent.map { meter in
                            try SignedRecord.sign(
                                .reading(
                                    Reading(
                                        meter: meter.id,
                                        sequence: UInt64(second),
                                        timestamp: now,
                                        values: [
                                            MeasuredValue(.energyImportWh, Int64(second)),
                                            MeasuredValue(.activePowerW, 100),
                                        ]
                                    )
                                ),
                                with: meter
                            )
                        }
                        let answer = try await gateway.post(
                            "/v1/readings",
                            body: try JSONEncoder().encode(IngestBatch(signed: records))
                        )
                        return try JSONDecoder().decode(IngestResponse.self, from: answer).results.filter(
                            \.isAcknowledged
                        ).count
                    }
                }
                return try await group.reduce(0, +)
            }
            let next = start + .seconds(second)
            if clock.now < next { try await Task.sleep(until: next, clock: clock) }
        }
        let loaded = residentKiB(gateway.process.processIdentifier)
        let peak = peakResidentKiB(gateway.process.processIdentifier)
        print(
            "10,000 meters × \(seconds) s: \(accepted) readings acknowledged in \(String(format: "%.1f", (clock.now - start).seconds)) s"
        )
        Bench.report(
            "gateway resident memory, 10k meters every second",
            value: Double(loaded) / 1024,
            unit: "MiB",
            reference: ("idle gateway", Double(idle) / 1024)
        )
        Bench.report(
            "gateway peak resident memory (VmHWM)",
            value: Double(peak) / 1024,
            unit: "MiB",
            reference: ("idle gateway", Double(idle) / 1024)
        )

        try await agentMemory(agentBinary: agentBinary, gateway: gateway)
    }

    static func agentMemory(agentBinary: String, gateway: GatewayUnderTest) async throws {
        let work = gateway.work
        let bus = work + "/bus"
        let emulator = try start(
            agentBinary,
            [
                "emulate", "--profile", "sdm630", "--unit", "1", "--pty-link", bus,
                "--log-level", "warning",
            ]
        )
        defer { stopProcess(emulator) }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: bus) {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .seconds(1))
        let emulatorIdle = residentKiB(emulator.processIdentifier)
        let meter = SigningIdentity()
        try KeyFile.writePrivateKey(meter, to: work + "/agent.key")
        try await gateway.enroll([meter])
        let agent = try start(
            agentBinary,
            [
                "run", "--device", bus, "--unit", "1", "--profile", "sdm630",
                "--key", work + "/agent.key", "--gateway", gateway.base,
                "--data", work + "/agent-data", "--interval", "100ms", "--log-level", "warning",
            ]
        )
        defer { stopProcess(agent) }
        try await Task.sleep(for: .seconds(10))
        Bench.report(
            "agent peak resident memory, one SDM630 polled every 100 ms",
            value: Double(peakResidentKiB(agent.processIdentifier)) / 1024,
            unit: "MiB",
            reference: ("emulator", Double(emulatorIdle) / 1024)
        )
    }

    // MARK: helpers

    /// A fresh directory under the temporary directory.
    static func makeWorkDirectory(_ prefix: String) throws -> String {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        return work
    }

    /// Opens the gateway on an initialised `directory` in this process, serves it on
    /// 127.0.0.1 (a free port) with the sealing service, as `edge-gateway serve` does,
    /// and runs `body` with it and its base URL. The group is stopped gracefully when
    /// `body` returns (pending entries sealed), cancelled when it throws, and the gateway
    /// is shut down either way.
    /// - Parameter offerToleranceWh: recorded on the chain as `serve --offer-tolerance-wh` does.
    static func withInProcessGateway<T>(
        directory: DataDirectory,
        config: ChainWriterConfig,
        offerToleranceWh: UInt64? = nil,
        tls: TLSIdentity? = nil,
        _ body: (Gateway, String) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "edge-gateway")
        logger.logLevel = .warning
        let gateway = try await Gateway.open(directory: directory, config: config, logger: logger)
        do {
            if let offerToleranceWh {
                let chain = await gateway.writer.tntState()
                _ = try await gateway.writer.adopt(policy: chain.policy, offerToleranceWh: offerToleranceWh)
            }
            let listen = ListenAddress(argument: "127.0.0.1:0")!
            let (bound, boundURL) = AsyncStream.makeStream(of: String.self)
            let onBound: @Sendable (String) -> Void = { url in
                boundURL.yield(url)
                boundURL.finish()
            }
            let sealTick = Duration.milliseconds(max(50, config.sealIntervalMs / 4))
            let group =
                if let tls {
                    try gateway.makeServiceGroup(
                        listen: listen,
                        sealTick: sealTick,
                        handleSignals: false,
                        tls: tls,
                        onBound: onBound
                    )
                } else {
                    gateway.makeServiceGroup(listen: listen, sealTick: sealTick, handleSignals: false, onBound: onBound)
                }
            let result = try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
                tasks.addTask {
                    defer { boundURL.finish() }
                    try await gateway.run(group, listen: listen)
                }
                do {
                    var urls = bound.makeAsyncIterator()
                    guard let base = await urls.next() else {
                        try await tasks.waitForAll()  // throws why the server stopped
                        throw BenchFailure("the in-process gateway stopped before it was bound")
                    }
                    let result = try await body(gateway, base)
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                    return result
                } catch {
                    tasks.cancelAll()
                    throw error
                }
            }
            await gateway.shutdown()
            return result
        } catch {
            await gateway.shutdown()
            throw error
        }
    }

    /// A gateway's HTTP API as the benchmarks' agents use it.
    struct GatewayEndpoint: Sendable {
        let base: String
        let token: String
        let http: HTTPClient
        /// For an https:// base: the client's TLS configuration.
        var tls: TLSConfiguration? = nil

        /// Enrolls consumers through `POST /v1/admin/enroll`, 16 at a time.
        func enroll(_ meters: [SigningIdentity]) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for slice in stride(from: 0, to: meters.count, by: max(1, meters.count / 16)) {
                    let part = meters[slice..<min(meters.count, slice + max(1, meters.count / 16))]
                    group.addTask {
                        for meter in part {
                            let body = try JSONSerialization.data(withJSONObject: [
                                "publicKey": KeyFile.publicKeyLine(meter.publicIdentity), "role": "consumer",
                            ])
                            _ = try await self.post("/v1/admin/enroll", body: body, token: self.token)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        /// Enrolls meters (consumers unless `role` says otherwise) through
        /// `POST /v1/admin/enrollments`, as many at once as it takes.
        func enrollInBulk(_ meters: [SigningIdentity], role: String = "consumer") async throws {
            for start in stride(from: 0, to: meters.count, by: AdminEnrollmentsRequest.maxKeys) {
                let part = meters[start..<min(meters.count, start + AdminEnrollmentsRequest.maxKeys)]
                let body = try JSONEncoder().encode(
                    AdminEnrollmentsRequest(
                        publicKeys: part.map { KeyFile.publicKeyLine($0.publicIdentity) },
                        role: role
                    )
                )
                _ = try await post("/v1/admin/enrollments", body: body, token: token)
            }
        }

        /// Readings accepted so far: the sum of every meter's last sequence number.
        func acceptedReadings() async throws -> Int {
            struct Meters: Decodable {
                struct Meter: Decodable { let lastSequence: Int }
                let meters: [Meter]
            }
            var request = HTTPClientRequest(url: base + "/v1/meters")
            request.tlsConfiguration = tls
            let response = try await http.execute(request, timeout: .seconds(60))
            let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            return try JSONDecoder().decode(Meters.self, from: data).meters.reduce(0) { $0 + $1.lastSequence }
        }

        func post(_ path: String, body: Data, token: String? = nil) async throws -> Data {
            var request = HTTPClientRequest(url: base + path)
            request.tlsConfiguration = tls
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .seconds(60))
            let data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            guard response.status.code == 200 else {
                throw BenchFailure(
                    "POST \(path): HTTP \(response.status.code) \(String(decoding: data.prefix(300), as: UTF8.self))"
                )
            }
            return data
        }
    }

    /// An `edge-gateway serve` process on a fresh data directory and a free port, for the
    /// figures that measure the gateway process's resident memory.
    final class GatewayUnderTest: @unchecked Sendable {
        let work: String
        let binary: String
        private(set) var process: Process
        let endpoint: GatewayEndpoint
        var base: String { endpoint.base }
        private var data: String { work + "/gw" }

        init(binary: String, http: HTTPClient) async throws {
            work = try GatewayBenchmarks.makeWorkDirectory("gl-bench")
            self.binary = binary
            let data = work + "/gw"
            let initialise = try GatewayBenchmarks.start(binary, ["init", "--data", data])
            initialise.waitUntilExit()
            process = try Self.serve(binary, data: data)
            try await Self.waitUntilListening(data: data)
            let base = try String(contentsOfFile: data + "/gateway.url", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            let token = try String(contentsOfFile: data + "/admin.token", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            endpoint = GatewayEndpoint(base: base, token: token, http: http)
        }

        func enroll(_ meters: [SigningIdentity]) async throws { try await endpoint.enroll(meters) }

        /// Stops the gateway (SIGTERM) and starts it again on the same data directory; returns
        /// the seconds from the new start until it listens (it writes `gateway.url` then). The
        /// base URL changes: use the endpoint only before.
        func restart() async throws -> Double {
            GatewayBenchmarks.stopProcess(process)
            let started = ContinuousClock.now
            process = try Self.serve(binary, data: data)
            try await Self.waitUntilListening(data: data, within: .seconds(600))
            return (ContinuousClock.now - started).seconds
        }

        private static func serve(_ binary: String, data: String) throws -> Process {
            try GatewayBenchmarks.start(
                binary,
                [
                    "serve", "--data", data, "--listen", "127.0.0.1:0",
                    "--seal-size", "2000", "--seal-interval", "1s", "--log-level", "warning",
                ]
            )
        }

        private static func waitUntilListening(data: String, within limit: Duration = .seconds(10)) async throws {
            let deadline = ContinuousClock.now + limit
            while !FileManager.default.fileExists(atPath: data + "/gateway.url") {
                guard ContinuousClock.now < deadline else {
                    throw BenchFailure("the gateway on \(data) did not listen within \(limit)")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }

        func post(_ path: String, body: Data) async throws -> Data { try await endpoint.post(path, body: body) }

        func stop() {
            GatewayBenchmarks.stopProcess(process)
            try? FileManager.default.removeItem(atPath: work)
        }
    }

    struct BenchFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func start(_ binary: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func stopProcess(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// VmRSS of a process, KiB.
    static func residentKiB(_ pid: Int32) -> Int { procStatus(pid, "VmRSS:") }

    /// VmHWM (peak resident set) of a process, KiB.
    static func peakResidentKiB(_ pid: Int32) -> Int { procStatus(pid, "VmHWM:") }

    private static func procStatus(_ pid: Int32, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field) })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
}

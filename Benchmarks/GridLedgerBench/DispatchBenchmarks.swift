import AsyncHTTPClient
import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import NIOCore
import Synchronization

/// TNT dispatch decisions per second at 100, 10k and 100k producers:
/// - in-process: request → rule → dispatch applied to the `TNTState` (the state machine
///   the gateway's writer runs), beside the naive O(n) rule in the same state;
/// - through the HTTP API: signed requests from 32 concurrent consumers
///   (`POST /v1/requests`, durable before the answer) to a gateway run in this process and
///   served on loopback as `edge-gateway serve` does, beside the in-process figure.
enum DispatchBenchmarks {
    static let baseTime: Int64 = 1_767_225_600_000

    static func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            for count in [100, 10_000, 100_000] {
                let inProcess = try inProcessRate(producers: count)
                let overHTTP = try await httpRate(producers: count, http: http)
                Bench.report(
                    "dispatch decisions over HTTP, \(count) producers",
                    value: overHTTP,
                    unit: "requests/s",
                    reference: ("in-process", inProcess)
                )
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// A chain state with `count` producers (each offered energy, a tolerance policy
    /// crediting it) and one consumer.
    struct Market {
        var state: ChainState
        let gateway: SigningIdentity
        let producers: [SigningIdentity]
        let consumers: [SigningIdentity]
        var entries: [SignedRecord] = []

        init(producers count: Int, consumers: Int, gateway: SigningIdentity = SigningIdentity()) throws {
            self.gateway = gateway
            state = ChainState(gatewayKey: gateway.publicIdentity)
            producers = (0..<count).map { _ in SigningIdentity() }
            self.consumers = (0..<consumers).map { _ in SigningIdentity() }
            try add(
                .policy(
                    PolicyRecord(
                        policy: .lowestTNT,
                        offerToleranceWh: 10_000_000,
                        timestamp: DispatchBenchmarks.baseTime
                    )
                ),
                by: gateway
            )
            for p in producers {
                try add(
                    .enrollment(
                        Enrollment(meterKey: p.publicIdentity, role: .producer, timestamp: DispatchBenchmarks.baseTime)
                    ),
                    by: gateway
                )
            }
            for c in self.consumers {
                try add(
                    .enrollment(
                        Enrollment(meterKey: c.publicIdentity, role: .consumer, timestamp: DispatchBenchmarks.baseTime)
                    ),
                    by: gateway
                )
            }
            var rng = SystemRandomNumberGenerator()
            for p in producers {
                try add(
                    .offer(
                        Offer(
                            producer: p.id,
                            sequence: 1,
                            energyWh: UInt64.random(in: 100_000...10_000_000, using: &rng),
                            validFrom: DispatchBenchmarks.baseTime,
                            validUntil: Int64.max
                        )
                    ),
                    by: p
                )
            }
        }

        mutating func add(_ record: Record, by signer: SigningIdentity) throws {
            let entry = try SignedRecord.sign(record, with: signer)
            try state.apply(entry)
            entries.append(entry)
        }
    }

    /// Request, decision and dispatch applied through the chain rules, per second.
    static func inProcessRate(producers count: Int) throws -> Double {
        let market = try Market(producers: count, consumers: 1)
        let consumer = market.consumers[0].id
        var tnt = market.state.tnt
        var sequence: UInt64 = 0
        var rng = SystemRandomNumberGenerator()
        let rate = try Bench.rate(operations: 1000) {
            for _ in 0..<1000 {
                sequence += 1
                let request = try EnergyRequest(
                    consumer: consumer,
                    sequence: sequence,
                    energyWh: UInt64.random(in: 1...5000, using: &rng),
                    timestamp: baseTime
                )
                try tnt.apply(.request(request))
                let dispatch = try tnt.dispatch(for: request.reference)
                try tnt.apply(.dispatch(dispatch))
            }
        }
        Bench.report(
            "dispatch decisions in-process, \(count) producers",
            value: rate,
            unit: "decisions/s",
            reference: ("naive O(n) rule, same state", naiveRate(tnt))
        )
        return rate
    }

    static func naiveRate(_ state: TNTState) -> Double {
        var rng = SystemRandomNumberGenerator()
        var sink = 0
        let rate = Bench.rate(operations: 8, minimum: .milliseconds(200)) {
            for _ in 0..<8 {
                if case .served = state.naiveDecide(energyWh: UInt64.random(in: 1...5000, using: &rng)) { sink += 1 }
            }
        }
        return sink >= 0 ? rate : 0
    }

    /// Signed requests through `POST /v1/requests` from 32 concurrent consumers.
    static func httpRate(producers count: Int, http: HTTPClient) async throws -> Double {
        let work = try GatewayBenchmarks.makeWorkDirectory("gl-dispatch")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let directory = DataDirectory(work + "/gw")
        let gatewayKey = try await directory.initialise()
        // The market is written straight into the store (enrolling 100k producers through
        // the admin API would take minutes); the gateway resumes from it when it opens.
        let market = try Market(producers: count, consumers: 32, gateway: gatewayKey)
        try writeChain(market.entries, signedBy: gatewayKey, to: directory.chainPath)
        // As `serve --offer-tolerance-wh 10000000` with the default seal size and interval.
        return try await GatewayBenchmarks.withInProcessGateway(
            directory: directory,
            config: ChainWriterConfig(),
            offerToleranceWh: 10_000_000
        ) { _, base in
            try await requestRate(market: market, base: base, http: http)
        }
    }

    /// Replaces the empty chain store `init` made with one holding `entries`, sealed into
    /// blocks of 5,000.
    static func writeChain(_ entries: [SignedRecord], signedBy gatewayKey: SigningIdentity, to path: String) throws {
        try FileManager.default.removeItem(atPath: path)
        let store = try ChainStore(path: path, check: .none)
        var builder = BlockBuilder(gateway: gatewayKey, policy: SealPolicy(maxEntries: 5000, maxAgeMilliseconds: .max))
        for entry in entries {
            if let block = try builder.add(signatureChecked: entry, at: baseTime) { try store.append(block) }
        }
        if let block = try builder.seal(at: baseTime) { try store.append(block) }
    }

    /// The timed load: each of the market's consumers sends 150 signed requests in order.
    static func requestRate(market: Market, base: String, http: HTTPClient) async throws -> Double {
        // Requests signed beforehand; each consumer sends its own in order.
        let perConsumer = 150
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let bodies: [[Data]] = try market.consumers.map { consumer in
            try (1...perConsumer).map { seq in
                let request = try EnergyRequest(
                    consumer: consumer.id,
                    sequence: UInt64(seq),
                    energyWh: UInt64(seq % 5000 + 1),
                    timestamp: now
                )
                return try JSONEncoder().encode(
                    TradeSubmission(signed: try SignedRecord.sign(.request(request), with: consumer))
                )
            }
        }
        let served = ManagedCounter()
        let elapsed = try await Bench.timeAsync {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for consumerBodies in bodies {
                    group.addTask {
                        for body in consumerBodies {
                            var request = HTTPClientRequest(url: base + "/v1/requests")
                            request.method = .POST
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(ByteBuffer(bytes: body))
                            let response = try await http.execute(request, timeout: .seconds(60))
                            let answer = try await response.body.collect(upTo: 1 << 20)
                            guard response.status.code == 200 else {
                                throw GatewayBenchmarks.BenchFailure(
                                    "POST /v1/requests: HTTP \(response.status.code) \(String(buffer: answer))"
                                )
                            }
                            served.add(1)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        return Double(served.value) / elapsed
    }
}

/// A counter the request tasks share.
final class ManagedCounter: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) { count.withLock { $0 += n } }
    var value: Int { count.withLock { $0 } }
}

import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite

/// A gateway on a fresh data directory, with a hand-moved clock.
struct Harness {
    let dir: DataDirectory
    let clock: TestClock
    let gateway: Gateway
    let logs: LogCapture

    static func make(
        config: ChainWriterConfig = ChainWriterConfig(),
        clock: TestClock = TestClock()
    ) async throws -> Harness {
        let dir = DataDirectory(makeTempDir())
        try dir.initialise()
        let logs = LogCapture()
        let gateway = try await Gateway.open(directory: dir, config: config, logger: logs.logger, clock: clock.function)
        return Harness(dir: dir, clock: clock, gateway: gateway, logs: logs)
    }

    /// Opens the same directory again (after `close`, or without it to simulate a crash).
    func reopen(config: ChainWriterConfig = ChainWriterConfig()) async throws -> Harness {
        let logs = LogCapture()
        let gateway = try await Gateway.open(directory: dir, config: config, logger: logs.logger, clock: clock.function)
        return Harness(dir: dir, clock: clock, gateway: gateway, logs: logs)
    }

    @discardableResult
    func enroll(_ key: SigningIdentity, role: MeterRole = .consumer) async throws -> SignedRecord {
        try await gateway.writer.enroll(key.publicIdentity, role: role)
    }

    func reading(
        _ meter: SigningIdentity,
        _ seq: UInt64,
        at offsetMs: Int64 = 0,
        importWh: Int64? = nil,
        powerW: Int64 = 500,
        voltage: Int64 = 2300,
        status: ReadingStatus = []
    ) throws -> SignedRecord {
        let ts = clock.now + offsetMs
        var values = [
            MeasuredValue(.energyImportWh, importWh ?? Int64(seq)), MeasuredValue(.activePowerW, powerW),
            MeasuredValue(.voltageL1dV, voltage),
        ]
        values.sort { $0.measurand < $1.measurand }
        let r = try Reading(meter: meter.id, sequence: seq, timestamp: ts, values: values, status: status)
        return try SignedRecord.sign(.reading(r), with: meter)
    }

    func app() -> some ApplicationProtocol {
        Application(router: gateway.router(), logger: logs.logger)
    }

    /// Posts a batch through the router and decodes the response.
    func post(_ records: [SignedRecord]) async throws -> [IngestResult] {
        try await post(raw: IngestBatch(signed: records).records)
    }

    func post(raw records: [String]) async throws -> [IngestResult] {
        let body = try JSONEncoder().encode(IngestBatch(records: records))
        return try await app().test(.router) { client in
            try await client.execute(uri: "/v1/readings", method: .post, headers: .json, body: ByteBuffer(bytes: body))
            { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(IngestResponse.self, from: Data(buffer: response.body)).results
            }
        }
    }

    func get<T: Decodable & Sendable>(_ uri: String, as: T.Type, status: HTTPResponse.Status = .ok) async throws -> T {
        try await app().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                #expect(response.status == status, "\(uri): \(String(buffer: response.body))")
                return try JSONDecoder().decode(T.self, from: Data(buffer: response.body))
            }
        }
    }

    func close() { gateway.close() }
}

extension IngestResult {
    var summary: String { "\(status.rawValue)\(reason.map { ":" + $0.rawValue } ?? "")" }
}

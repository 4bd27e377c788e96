import AsyncHTTPClient
import Foundation
import GridAPI
import LedgerLite
import LedgerStore

/// Enrolling a fleet, with the release `edge-gateway serve` binary: 10,000 producers through
/// `POST /v1/admin/enrollments` (two requests of 5,000), beside the same number enrolled one
/// by one through `POST /v1/admin/enroll` on another gateway in the same run; then the time
/// the bulk-enrolled gateway takes to restart (SIGTERM, then a new `serve` until it has
/// written `gateway.url`, i.e. is listening).
enum EnrollmentBenchmarks {
    static let meters = 10_000

    static func run() async throws {
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let gatewayBinary = binaries.appendingPathComponent("edge-gateway").path
        guard FileManager.default.isExecutableFile(atPath: gatewayBinary) else {
            print("edge-gateway missing beside the benchmark binary: build all products in release")
            return
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await enrollment(gatewayBinary: gatewayBinary, http: http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func enrollment(gatewayBinary: String, http: HTTPClient) async throws {
        let bulk = try await GatewayBenchmarks.GatewayUnderTest(binary: gatewayBinary, http: http)
        defer { bulk.stop() }
        let keys = (0..<meters).map { _ in SigningIdentity() }
        let bulkSeconds = try await Bench.timeAsync {
            try await bulk.endpoint.enrollInBulk(keys, role: "producer")
        }
        let single = try await GatewayBenchmarks.GatewayUnderTest(binary: gatewayBinary, http: http)
        defer { single.stop() }
        let otherKeys = (0..<meters).map { _ in SigningIdentity() }
        let singleSeconds = try await Bench.timeAsync {
            for key in otherKeys {
                let body = try JSONSerialization.data(withJSONObject: [
                    "publicKey": KeyFile.publicKeyLine(key.publicIdentity), "role": "producer",
                ])
                _ = try await single.endpoint.post("/v1/admin/enroll", body: body, token: single.endpoint.token)
            }
        }
        Bench.report(
            "enroll 10,000 producers in bulk",
            value: bulkSeconds,
            unit: "s",
            reference: ("one by one", singleSeconds),
            target: "seconds"
        )
        let restart = try await bulk.restart()
        Bench.report(
            "restart after enrolling 10,000 producers in bulk (until listening)",
            value: restart,
            unit: "s",
            reference: ("enrolling them", bulkSeconds)
        )
    }
}

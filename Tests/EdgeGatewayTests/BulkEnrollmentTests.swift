import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import OperatorKit
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

@Suite("Enrollment in bulk")
struct BulkEnrollmentTests {
    static func body(_ keys: [SigningIdentity], role: String? = nil) throws -> ByteBuffer {
        ByteBuffer(
            bytes: try JSONEncoder().encode(
                AdminEnrollmentsRequest(publicKeys: keys.map { KeyFile.publicKeyLine($0.publicIdentity) }, role: role)
            )
        )
    }

    @Test("POST /v1/admin/enrollments enrolls many meters in one durable group, sealed before the answer")
    func manyMetersAtOnce() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let meters = (0..<300).map { _ in SigningIdentity() }
        let auth: HTTPFields = [.authorization: "Bearer \(h.gateway.token)"]
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/admin/enrollments",
                method: .post,
                headers: auth.json,
                body: try Self.body(meters, role: "producer")
            ) { response in
                #expect(response.status == .ok)
                let answer = try JSONDecoder().decode(AdminEnrollmentsResponse.self, from: Data(buffer: response.body))
                #expect(answer.meters == meters.map(\.id.hex))
                #expect(answer.role == "producer")
            }
        }
        let tnt = await h.gateway.writer.tntState()
        #expect(meters.allSatisfy { tnt.status(of: $0.id)?.role == .producer })
        // Sealed together: one block, not one per meter.
        let health = try await h.get("/healthz", as: ChainWriter.Health.self)
        #expect(health.blocks == 1)
        #expect(health.pending == 0)
    }

    @Test("a list with a key twice, or a meter already enrolled, enrolls nothing and names the meter")
    func allOrNothing() async throws {
        let h = try await Harness.make()
        defer { h.close() }
        let enrolled = SigningIdentity()
        try await h.enroll(enrolled)
        let fresh = (0..<3).map { _ in SigningIdentity() }
        let auth: HTTPFields = [.authorization: "Bearer \(h.gateway.token)"]
        try await h.app().test(.router) { client in
            try await client.execute(
                uri: "/v1/admin/enrollments",
                method: .post,
                headers: auth.json,
                body: try Self.body(fresh + [enrolled])
            ) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("meter \(enrolled.id.hex) is already enrolled"))
            }
            try await client.execute(
                uri: "/v1/admin/enrollments",
                method: .post,
                headers: auth.json,
                body: try Self.body(fresh + [fresh[1]])
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("meter \(fresh[1].id.hex) is listed twice"))
            }
            for (body, problem) in [
                (try Self.body([]), "give 1 to 5000 keys, not 0"),
                (try Self.body(fresh, role: "prosumer"), "role must be consumer or producer"),
                (
                    ByteBuffer(string: #"{"publicKeys": ["ed25519 AAAA", "x"]}"#),
                    "publicKeys[0]"
                ),
                (
                    ByteBuffer(string: #"{"publicKeys": ["\#(String(repeating: "a", count: 200))"]}"#),
                    "longer than 100 characters"
                ),
            ] {
                try await client.execute(
                    uri: "/v1/admin/enrollments",
                    method: .post,
                    headers: auth.json,
                    body: body
                ) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains(problem), "\(String(buffer: response.body))")
                }
            }
            try await client.execute(
                uri: "/v1/admin/enrollments",
                method: .post,
                headers: .json,
                body: try Self.body(fresh)
            ) { response in
                #expect(response.status == .unauthorized)
            }
        }
        let tnt = await h.gateway.writer.tntState()
        #expect(fresh.allSatisfy { tnt.status(of: $0.id) == nil })
        #expect(try await h.get("/healthz", as: ChainWriter.Health.self).blocks == 1)
    }

    @Test("enroll reads a file of key lines and a directory of .pub files, and enrolls them offline in one go")
    func enrollCommandReadsFilesAndDirectories() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gl-bulk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/keys", withIntermediateDirectories: true)
        let listed = (0..<4).map { _ in SigningIdentity() }
        try (["# a fleet's keys", ""] + listed.map { KeyFile.publicKeyLine($0.publicIdentity, comment: "fleet") })
            .joined(separator: "\n").write(toFile: root + "/fleet.pub", atomically: true, encoding: .utf8)
        let single = (0..<3).map { _ in SigningIdentity() }
        for (index, key) in single.enumerated() {
            try KeyFile.writePublicKey(key.publicIdentity, to: root + "/keys/m\(index).key.pub")
        }
        #expect(try EnrollCommand.readKeys(root + "/fleet.pub").map(\.id) == listed.map(\.id))
        #expect(try EnrollCommand.readKeys(root + "/keys").map(\.id) == single.map(\.id))
        // A fleet's list is larger than one key file may be (64 KiB).
        let fleet = (0..<2_000).map { _ in SigningIdentity() }
        try fleet.map { KeyFile.publicKeyLine($0.publicIdentity, comment: "a meter of the fleet") }
            .joined(separator: "\n").write(toFile: root + "/big.pub", atomically: true, encoding: .utf8)
        #expect(try EnrollCommand.readKeys(root + "/big.pub").count == 2_000)
        try "ed25519 AAAA\n".write(toFile: root + "/bad.pub", atomically: true, encoding: .utf8)
        let error = #expect(throws: OperatorError.self) { try EnrollCommand.readKeys(root + "/bad.pub") }
        #expect(error?.description.contains("bad.pub:1") == true)

        let data = root + "/gw"
        try DataDirectory(data).initialise()
        let enroll = try EnrollCommand.parse(["--data", data, "--meter-key", root + "/fleet.pub", root + "/keys"])
        try await enroll.run()
        let gateway = try await Gateway.open(directory: DataDirectory(data), logger: .init(label: "test"))
        let tnt = await gateway.writer.tntState()
        let health = await gateway.writer.health()
        await gateway.shutdown()
        #expect((listed + single).allSatisfy { tnt.status(of: $0.id)?.active == true })
        #expect(health.blocks == 1)
    }
}

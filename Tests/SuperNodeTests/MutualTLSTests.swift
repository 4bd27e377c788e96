import AsyncHTTPClient
import Foundation
import GridAPI
import GridTLS
import NIOCore
import OperatorKit
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNode
@testable import SuperNodeCore

/// The super node served over TLS with gateways' certificates pinned (`certify
/// --gateway-tls-cert`), on 127.0.0.1, called by clients presenting one certificate or none:
/// the 403s of `MutualTLSResponder` come after a handshake the server accepted.
@Suite("Mutual TLS: a pinned gateway's calls on a connection without its certificate")
struct MutualTLSTests {
    /// A running HTTPS super node whose pinned gateways are `north` and `south`; `east` is
    /// certified without a pinned certificate.
    struct Served {
        let harness: NodeHarness
        let root: String
        var base = ""
        let superNodeCertificate: String
        let north = TestKeys.key(0x91)
        let south = TestKeys.key(0x92)
        let east = TestKeys.key(0x93)
        let northTLS: TLSIdentity
        let southTLS: TLSIdentity

        /// The answer to a call.
        struct Call {
            var status: Int
            var body: String
        }

        /// `POST /v1/blocks` with `gateway`'s chain, signed by `gateway`, on a connection
        /// presenting `presenting` (none when nil).
        func push(as gateway: SigningIdentity, presenting: TLSIdentity?) async throws -> Call {
            let certificate = try await harness.certify(gateway, name: "gw-\(gateway.id.hex.prefix(4))")
            let chain = try ChainMaker.standard(gateway: gateway)
            let body = Array(
                try JSONEncoder().encode(
                    PushRequest(
                        certificate: Data(certificate.bytes).base64EncodedString(),
                        blocks: chain.blocks.map { Data($0.wireBytes()).base64EncodedString() }
                    )
                )
            )
            return try await post(SuperNodeRoutes.blocks, body: body, signer: gateway, presenting: presenting)
        }

        /// Posts `body` to `endpoint`, stamped by `signer`, over a connection that trusts the
        /// super node's certificate and presents `presenting`.
        func post(
            _ endpoint: Endpoint,
            body: [UInt8],
            signer: SigningIdentity,
            presenting: TLSIdentity?
        ) async throws -> Call {
            let url = base + endpoint.template
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(
                name: RequestSigning.header,
                value: try RequestSigning.headerValue(
                    signer: signer,
                    at: harness.clock.now,
                    endpoint: endpoint,
                    body: body
                )
            )
            request.body = .bytes(ByteBuffer(bytes: body))
            request.tlsConfiguration = try await ClientTLS(trust: .caFile(superNodeCertificate), identity: presenting)
                .configuration(for: url)
            // A client of its own: connections are not shared between the calls' certificates.
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let response = try await client.execute(request, timeout: .seconds(30))
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                try await client.shutdown()
                return Call(status: Int(response.status.code), body: text)
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    /// Runs `body` against a super node serving HTTPS on 127.0.0.1:0, then stops it and
    /// removes every directory made.
    func withServedNode(_ body: (Served) async throws -> Void) async throws {
        let harness = try await NodeHarness.make()
        let root = makeTempDir(prefix: "gridledger-mtls")
        defer {
            try? FileManager.default.removeItem(atPath: root)
            try? FileManager.default.removeItem(atPath: harness.dir.path)
        }
        /// A self-signed certificate and key of a gateway's, as `edge-gateway init` writes them.
        func gatewayTLS(_ name: String) throws -> ServiceDirectory {
            let directory = ServiceDirectory(
                root + "/" + name,
                marker: "gateway.key",
                kind: "gateway",
                initCommand: "edge-gateway init"
            )
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
            try directory.writeSelfSignedCertificate(hostnames: [name], subject: "GridLedger edge gateway")
            return directory
        }
        let north = try gatewayTLS("north")
        let south = try gatewayTLS("south")
        let own = harness.dir.directory
        try own.writeSelfSignedCertificate(hostnames: ["127.0.0.1"], subject: "GridLedger super node")
        let tls = try TLSIdentity(certificatePath: own.tlsCertificatePath, keyPath: own.tlsKeyPath)

        var served = Served(
            harness: harness,
            root: root,
            superNodeCertificate: own.tlsCertificatePath,
            northTLS: try TLSIdentity(certificatePath: north.tlsCertificatePath, keyPath: north.tlsKeyPath),
            southTLS: try TLSIdentity(certificatePath: south.tlsCertificatePath, keyPath: south.tlsKeyPath)
        )
        let pins = GatewayTLSPins(harness.dir)
        _ = try pins.pin(certificateFile: north.tlsCertificatePath, gateway: served.north.id)
        _ = try pins.pin(certificateFile: south.tlsCertificatePath, gateway: served.south.id)

        let listen = try #require(ListenAddress(argument: "127.0.0.1:0"))
        let group = try harness.node.makeServiceGroup(
            directory: harness.dir,
            listen: listen,
            tls: tls,
            gatewayPins: try pins.load(),
            handleSignals: false
        )
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await harness.node.run(group, directory: harness.dir, listen: listen) }
            do {
                try await waitUntil("the super node's URL file") { harness.dir.urlFile.read() != nil }
                served.base = try #require(harness.dir.urlFile.read())
                #expect(served.base.hasPrefix("https://127.0.0.1:"))
                try await body(served)
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    static let refusal = "must present the TLS certificate pinned for it"

    @Test("a push signed by a pinned gateway on a connection with no client certificate is refused with 403")
    func pushWithoutACertificateIsRefused() async throws {
        try await withServedNode { node in
            let call = try await node.push(as: node.north, presenting: nil)
            #expect(call.status == 403, "\(call.body)")
            #expect(call.body.contains("gateway \(node.north.id.hex) \(Self.refusal)"), "\(call.body)")
            #expect(call.body.contains("--gateway-tls-cert"), "the refusal names the fix: \(call.body)")
        }
    }

    @Test(
        "a push signed by a pinned gateway on a connection presenting another gateway's pinned certificate is refused with 403"
    )
    func pushWithAnotherGatewaysCertificateIsRefused() async throws {
        try await withServedNode { node in
            // South's certificate is pinned, so the handshake accepts it; it is not north's.
            let call = try await node.push(as: node.north, presenting: node.southTLS)
            #expect(call.status == 403, "\(call.body)")
            #expect(call.body.contains("gateway \(node.north.id.hex) \(Self.refusal)"), "\(call.body)")
        }
    }

    @Test("an escalation signed by a pinned gateway on a connection without its certificate is refused with 403")
    func escalationWithoutTheCertificateIsRefused() async throws {
        try await withServedNode { node in
            // Refused before the router reads the body, so any JSON will do.
            for presenting in [nil, node.southTLS] {
                let call = try await node.post(
                    SuperNodeRoutes.escalations,
                    body: Array("{}".utf8),
                    signer: node.north,
                    presenting: presenting
                )
                #expect(call.status == 403, "\(call.body)")
                #expect(call.body.contains(Self.refusal), "\(call.body)")
            }
        }
    }

    @Test("the pinned gateway presenting its own certificate, and a gateway without a pin presenting none, are served")
    func theRightCertificateAndNoPinGoThrough() async throws {
        try await withServedNode { node in
            let north = try await node.push(as: node.north, presenting: node.northTLS)
            #expect(north.status == 200, "\(north.body)")
            let east = try await node.push(as: node.east, presenting: nil)
            #expect(east.status == 200, "\(east.body)")
        }
    }
}

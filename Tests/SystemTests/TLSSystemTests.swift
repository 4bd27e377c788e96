import AsyncHTTPClient
import Foundation
import Glibc
import GridAPI
import GridTLS
import NIOCore
import NIOFoundationCompat
import OperatorKit
import TestSupport
import Testing

/// HTTPS with the real binaries: servers speaking TLS with the certificate `init` made,
/// clients that pin it or take it as a CA file, and the refusals of plain HTTP.
@Suite("TLS with the real binaries", .serialized)
struct TLSSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure

    /// The fingerprint `init` printed on its `tls sha256` line.
    static func printedFingerprint(_ output: String) throws -> String {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tls sha256") }),
            let fingerprint = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first
        else { throw Failure("init printed no tls sha256 line: \(output)") }
        return String(fingerprint)
    }

    /// Starts `serve` and waits for the URL file; throws with the log when it stops first.
    static func serve(
        _ binary: String,
        _ arguments: [String],
        urlFile: String,
        log: String
    ) async throws -> (
        RunningProcess, String
    ) {
        let process = try RunningProcess(binary, arguments, log: log)
        try await waitUntil("\(urlFile)") {
            FileManager.default.fileExists(atPath: urlFile) || !process.process.isRunning
        }
        guard process.process.isRunning else { throw Failure("\(binary) serve stopped: \(process.logText)") }
        let url = try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (process, url)
    }

    @Test(
        "a gateway serving HTTPS: an agent that pins its fingerprint forwards readings, enroll goes through it, a client with the wrong pin is refused"
    )
    func pinnedAgentOverHTTPS() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        let meter = try await world.keygen("house")
        let initialised = try await runBinary(
            "edge-gateway",
            ["init", "--data", world.gateway, "--hostname", "localhost", "--hostname", "127.0.0.1"]
        )
        #expect(initialised.status == 0, "\(initialised.output)")
        let fingerprint = try Self.printedFingerprint(initialised.output)

        let bus = world.path("bus")
        try """
        seed: 3
        speed: 60
        start: 2026-06-21T10:00:00Z
        buses:
          - pty-link: \(bus)
            meters:
              - { profile: sdm120, unit: 1, role: consumer }
        """.write(toFile: world.path("fleet.yaml"), atomically: true, encoding: .utf8)
        let emulator = try RunningProcess(
            "meter-agent",
            ["emulate", "--config", world.path("fleet.yaml")],
            log: world.path("emulator.log")
        )
        try await waitUntil("the emulated bus") { FileManager.default.fileExists(atPath: bus) }
        let (gateway, base) = try await Self.serve(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "127.0.0.1:0", "--tls", "--seal-interval", "300ms"],
            urlFile: world.gateway + "/gateway.url",
            log: world.path("gateway.log")
        )
        #expect(base.hasPrefix("https://127.0.0.1:"), "the URL file names the HTTPS URL: \(base)")

        // Enrolling through the running gateway pins the certificate it published.
        let enrolled = try await runBinary(
            "edge-gateway",
            ["enroll", "--data", world.gateway, "--meter-key", world.path("house.key.pub")]
        )
        #expect(enrolled.status == 0, "\(enrolled.output)")
        #expect(enrolled.output.contains("through the running gateway at \(base)"), "\(enrolled.output)")

        let agent = try RunningProcess(
            "meter-agent",
            [
                "run", "--device", bus, "--unit", "1", "--profile", "sdm120", "--key", world.path("house.key"),
                "--gateway", base, "--gateway-fingerprint", fingerprint, "--data", world.path("agent-data"),
                "--interval", "100ms",
            ],
            log: world.path("agent.log")
        )
        // A client trusting the certificate file as its CA reads what the agent forwarded.
        try await GatewayClient.withClient(
            base: URL(string: base)!,
            tls: try ClientTLS(trust: .caFile(world.gateway + "/tls.crt"))
        ) { client in
            try await waitUntil("the pinned agent's readings at the gateway") {
                (try? await client.lastSequence(ofMeter: meter, timeout: .seconds(5))) ?? 0 >= 3
            }
        }
        #expect(agent.terminate() == 0, "\(agent.logText)")

        // The wrong pin: the handshake is refused and the client says why.
        let wrong = String(repeating: "AB:", count: 31) + "AB"
        let refused = try await runBinary(
            "meter-agent",
            [
                "offer", "--key", world.path("house.key"), "--gateway", base, "--energy-wh", "5",
                "--gateway-fingerprint", wrong,
            ]
        )
        #expect(refused.status != 0)
        #expect(refused.output.contains("not the pinned"), "\(refused.output)")
        #expect(refused.output.contains(fingerprint), "the refusal names the certificate presented: \(refused.output)")

        #expect(gateway.terminate() == 0, "\(gateway.logText)")
        emulator.terminate()
    }

    @Test("plain HTTP on an address other machines reach is refused without --allow-plain-http, with the fix named")
    func plainNonLoopbackRefused() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        #expect(try await runBinary("super-node", ["init", "--data", world.path("sn")]).status == 0)

        let gateway = try await runBinary("edge-gateway", ["serve", "--data", world.gateway, "--listen", "0.0.0.0:0"])
        #expect(gateway.status != 0)
        #expect(gateway.output.contains("refusing plain HTTP on 0.0.0.0:0"), "\(gateway.output)")
        #expect(gateway.output.contains("--tls") && gateway.output.contains("--allow-plain-http"))

        let node = try await runBinary("super-node", ["serve", "--data", world.path("sn"), "--listen", "0.0.0.0:0"])
        #expect(node.status != 0)
        #expect(node.output.contains("refusing plain HTTP on 0.0.0.0:0"), "\(node.output)")
    }

    @Test(
        "plain HTTP beyond loopback with --allow-plain-http: a warning is logged, admin calls are accepted from loopback only"
    )
    func plainNonLoopbackAllowed() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        _ = try await world.keygen("house")
        #expect(try await runBinary("edge-gateway", ["init", "--data", world.gateway]).status == 0)
        let (gateway, base) = try await Self.serve(
            "edge-gateway",
            ["serve", "--data", world.gateway, "--listen", "0.0.0.0:0", "--allow-plain-http"],
            urlFile: world.gateway + "/gateway.url",
            log: world.path("gateway.log")
        )
        #expect(base.hasPrefix("http://127.0.0.1:"))
        #expect(gateway.logText.contains("serving plain HTTP on an address other machines reach"))
        let enrolled = try await runBinary(
            "edge-gateway",
            ["enroll", "--data", world.gateway, "--meter-key", world.path("house.key.pub")]
        )
        #expect(enrolled.status == 0, "an admin call from loopback is served: \(enrolled.output)")
        #expect(gateway.terminate() == 0, "\(gateway.logText)")
    }

    @Test("a peer that is not loopback is told apart from one that is (the plain-HTTP admin guard)")
    func loopbackPeers() throws {
        #expect(LoopbackAddress.contains("127.0.0.1"))
        #expect(LoopbackAddress.contains("127.3.2.1"))
        #expect(LoopbackAddress.contains("::1"))
        #expect(LoopbackAddress.contains("::ffff:127.0.0.1"))
        #expect(!LoopbackAddress.contains("10.0.0.7"))
        #expect(!LoopbackAddress.contains("192.168.1.20"))
        #expect(!LoopbackAddress.contains("fe80::1"))
        #expect(!LoopbackAddress.contains(nil))
    }
}

/// The gateway ↔ super node link over mutual TLS.
@Suite("Mutual TLS between gateway and super node with the real binaries", .serialized)
struct MutualTLSSystemTests {
    typealias World = EndToEndTests.World
    typealias Failure = EndToEndTests.Failure

    /// `GET /v1/gateways` over HTTPS, trusting the super node's own certificate: name → audited height.
    static func audited(_ base: String, caFile: String) async throws -> [String: UInt64] {
        struct Gateways: Decodable {
            struct Gateway: Decodable {
                var name: String
                var auditedHeight: UInt64?
            }
            var gateways: [Gateway]
        }
        let tls = try ClientTLS(trust: .caFile(caFile))
        var request = HTTPClientRequest(url: base + "/v1/gateways")
        request.tlsConfiguration = try await tls.configuration(for: request.url)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let list = try JSONDecoder().decode(Gateways.self, from: Data(buffer: body))
        return Dictionary(uniqueKeysWithValues: list.gateways.compactMap { g in g.auditedHeight.map { (g.name, $0) } })
    }

    @Test(
        "a gateway presenting the TLS certificate pinned at certify gets its blocks checkpointed over HTTPS; one presenting another is refused in the handshake"
    )
    func pinnedGatewayCertificate() async throws {
        let world = try World()
        defer { try? FileManager.default.removeItem(atPath: world.root) }
        let sn = world.path("sn")
        #expect(try await runBinary("super-node", ["init", "--data", sn]).status == 0)
        for name in ["north", "south"] {
            let gw = world.path(name)
            #expect(try await runBinary("edge-gateway", ["init", "--data", gw]).status == 0)
            let certified = try await runBinary(
                "super-node",
                [
                    "certify", "--data", sn, "--gateway-key", gw + "/gateway.key.pub", "--name", name,
                    "--out", world.path("\(name).cert"), "--gateway-tls-cert", gw + "/tls.crt",
                ]
            )
            #expect(certified.status == 0, "\(certified.output)")
            #expect(certified.output.contains("tls pinned"), "\(certified.output)")
            // An enrollment seals a block, so the uplink has something to push.
            _ = try await world.keygen("\(name)-meter")
            let enrolled = try await runBinary(
                "edge-gateway",
                ["enroll", "--data", gw, "--meter-key", world.path("\(name)-meter.key.pub")]
            )
            #expect(enrolled.status == 0, "\(enrolled.output)")
        }
        // South replaces its TLS certificate after it was pinned: the super node no longer knows it.
        #expect(try await runBinary("edge-gateway", ["tls-certificate", "--data", world.path("south")]).status == 0)

        let (node, base) = try await TLSSystemTests.serve(
            "super-node",
            ["serve", "--data", sn, "--listen", "127.0.0.1:0", "--tls"],
            urlFile: sn + "/super-node.url",
            log: world.path("super-node.log")
        )
        let fingerprint = try String(contentsOfFile: sn + "/super-node.url.fingerprint", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var gateways: [RunningProcess] = []
        for name in ["north", "south"] {
            let gw = world.path(name)
            let (gateway, _) = try await TLSSystemTests.serve(
                "edge-gateway",
                [
                    "serve", "--data", gw, "--listen", "127.0.0.1:0", "--tls", "--seal-interval", "200ms",
                    "--super-node", base, "--super-node-fingerprint", fingerprint,
                    "--certificate", world.path("\(name).cert"),
                ],
                urlFile: gw + "/gateway.url",
                log: world.path("\(name).log")
            )
            gateways.append(gateway)
        }
        try await waitUntil("north's blocks checkpointed over mutual TLS") {
            try await Self.audited(base, caFile: sn + "/tls.crt")["north"] != nil
        }
        try await waitUntil("south refused") {
            gateways[1].logText.contains("cannot push blocks to the super node")
        }
        #expect(try await Self.audited(base, caFile: sn + "/tls.crt")["south"] == nil)
        for gateway in gateways { #expect(gateway.terminate() == 0, "\(gateway.logText)") }
        #expect(node.terminate() == 0, "\(node.logText)")
    }
}

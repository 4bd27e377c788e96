import Foundation
import TestSupport
import Testing

/// OCMF documents from an emulated meter through the real agent and gateway, exported and
/// verified by an implementation we did not write: Python's `cryptography` package.
@Suite("OCMF export with the real binaries", .serialized)
struct OCMFSystemTests {
    /// Checks an `export ocmf` file as an OCMF tool would: every document's ECDSA signature
    /// over its exact payload bytes, with the public key named above it; its fields; gap-free
    /// pagination from T1. Prints `ok N` on success, else the first problem (exit 1).
    static let verifier = #"""
        import json, re, sys
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key
        path, meter, expected_key = sys.argv[1], sys.argv[2], sys.argv[3]
        key_hex, count, previous_end = None, 0, None
        tm = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}[+-]\d{4} [UISR]$")
        for line in open(path, encoding="utf-8").read().splitlines():
            if line.startswith("# public key"):
                key_hex = line.rsplit(" ", 1)[1]
                continue
            if line.startswith("#") or not line:
                continue
            header, rest = line.split("|", 1)
            payload, signature = rest.rsplit("|", 1)
            assert header == "OCMF", header
            if key_hex != expected_key:
                sys.exit("the export names key %s, the meter's .ocmf.pub holds %s" % (key_hex, expected_key))
            sig = json.loads(signature)
            assert sig.get("SA", "ECDSA-secp256r1-SHA256") == "ECDSA-secp256r1-SHA256", sig
            key = load_der_public_key(bytes.fromhex(key_hex))
            assert isinstance(key.curve, ec.SECP256R1), key.curve
            key.verify(bytes.fromhex(sig["SD"]), payload.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
            p = json.loads(payload)
            count += 1
            assert p["FV"] == "1.0" and p["PG"] == "T%d" % count and p["MS"] == meter, p
            assert p["IS"] is False and p["IT"] == "NONE", p
            imports = [r for r in p["RD"] if r["RI"] == "1-0:1.8.0"]
            assert [r["TX"] for r in imports] == ["B", "E"], p["RD"]
            for r in p["RD"]:
                assert tm.match(r["TM"]) and r["RU"] == "kWh" and r["ST"] == "G" and r["EF"] == "", r
            assert imports[0]["RV"] <= imports[1]["RV"], imports
            if previous_end is not None and imports[0]["TM"] > previous_end[0]:
                assert imports[0]["RV"] >= previous_end[1], (imports, previous_end)
            previous_end = (imports[1]["TM"], imports[1]["RV"])
            # A byte changed in the payload must break the signature.
            try:
                key.verify(bytes.fromhex(sig["SD"]), payload.replace('"T', '"X', 1).encode(), ec.ECDSA(hashes.SHA256()))
                sys.exit("a changed payload still verifies")
            except Exception as error:
                if type(error).__name__ != "InvalidSignature":
                    raise
        print("ok %d" % count)
        """#

    static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try SpawnedProcess.run("/usr/bin/env", ["python3"] + arguments)
    }

    @Test("an agent's OCMF documents reach the chain and export as strings Python's cryptography verifies")
    func exportVerifiesWithAnIndependentImplementation() async throws {
        let check = try Self.python(["-c", "import cryptography"])
        #expect(
            check.status == 0,
            "the test needs Python's cryptography package (Debian python3-cryptography): \(check.output)"
        )
        guard check.status == 0 else { return }

        let root = makeTempDir(prefix: "gl-ocmf-e2e")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        func path(_ name: String) -> String { root + "/" + name }

        let keygen = try await runBinary("meter-agent", ["keygen", "--out", path("house.key"), "--ocmf"])
        #expect(keygen.status == 0, "\(keygen.output)")
        let meter = try #require(
            keygen.output.split(separator: "\n").first { $0.hasPrefix("meter id ") }.map { String($0.dropFirst(9)) }
        )
        let publicKey = try String(contentsOfFile: path("house.key.ocmf.pub"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let mode = try FileManager.default.attributesOfItem(atPath: path("house.key.ocmf"))[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let gatewayData = path("gw")
        #expect(try await runBinary("edge-gateway", ["init", "--data", gatewayData]).status == 0)
        #expect(
            try await runBinary(
                "edge-gateway",
                ["enroll", "--data", gatewayData, "--meter-key", path("house.key.pub")]
            )
            .status
                == 0
        )
        let bus = path("bus")
        try """
        seed: 3
        buses:
          - pty-link: \(bus)
            meters:
              - { profile: sdm630, unit: 1, role: consumer }
        """.write(toFile: path("fleet.yaml"), atomically: true, encoding: .utf8)
        let emulator = try RunningProcess(
            "meter-agent",
            ["emulate", "--config", path("fleet.yaml")],
            log: path("emulator.log")
        )
        defer { _ = emulator.terminate() }
        try await waitUntil("the emulated bus") { FileManager.default.fileExists(atPath: bus) }
        let gateway = try RunningProcess(
            "edge-gateway",
            ["serve", "--data", gatewayData, "--listen", "127.0.0.1:0", "--seal-interval", "300ms"],
            log: path("gateway.log")
        )
        defer { _ = gateway.terminate() }
        try await waitUntil("gateway.url") { FileManager.default.fileExists(atPath: gatewayData + "/gateway.url") }
        let base = try String(contentsOfFile: gatewayData + "/gateway.url", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let agent = try RunningProcess(
            "meter-agent",
            [
                "run", "--device", bus, "--unit", "1", "--profile", "sdm630", "--key", path("house.key"),
                "--gateway", base, "--data", path("agent-data"), "--interval", "200ms", "--ocmf-period", "1s",
            ],
            log: path("agent.log")
        )
        try await waitUntil("three OCMF documents signed", timeout: .seconds(60)) {
            agent.logText.components(separatedBy: "OCMF document signed").count > 3
        }
        #expect(agent.terminate() == 0, "\(agent.logText.suffix(2000))")
        #expect(agent.logText.contains("OCMF documents on"))
        #expect(!agent.logText.contains("gateway refused an OCMF document"), "\(agent.logText.suffix(2000))")

        let out = path("house.ocmf")
        let export = try await runBinary(
            "edge-gateway",
            [
                "export", "ocmf", "--data", gatewayData, "--meter", meter, "--from", "2000-01-01", "--until",
                "2100-01-01", "--out", out,
            ]
        )
        #expect(export.status == 0, "\(export.output)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains("not a certified measuring instrument"))
        #expect(text.contains("chain entry "))
        try Self.verifier.write(toFile: path("verify.py"), atomically: true, encoding: .utf8)
        let verified = try Self.python([path("verify.py"), out, meter, publicKey])
        #expect(verified.status == 0, "\(verified.output)\n\(text)")
        let documents = Int(verified.output.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(3)) ?? 0
        #expect(documents >= 3, "\(verified.output)")

        // The gateway's chain, with the commitments, verifies; an empty window is one clear line.
        #expect(try await runBinary("edge-gateway", ["verify", "--data", gatewayData]).status == 0)
        let empty = try await runBinary(
            "edge-gateway",
            [
                "export", "ocmf", "--data", gatewayData, "--meter", meter, "--from", "2001-01-01", "--until",
                "2001-01-02",
            ]
        )
        #expect(empty.status != 0)
        #expect(empty.output.contains("no OCMF documents of meter \(meter)"), "\(empty.output)")
    }
}

import Foundation
import Glibc
import TestSupport
import Testing

@testable import AgentCore
@testable import MeterAgent
@testable import MeterEmulator

/// The `meter-agent` binary as a user runs it.
@Suite("meter-agent on the command line", .serialized)
struct CommandLineTests {
    struct Result {
        var status: Int32
        var output: String
        var error: String
    }

    static let binary = builtBinary("meter-agent")

    /// Starts meter-agent; its standard output and error go to the returned log file.
    static func start(_ arguments: [String]) throws -> (SpawnedProcess, log: String) {
        guard let binary else { throw BinaryMissing() }
        let log = makeTempDir(prefix: "gl-cli-log")
        return (try SpawnedProcess(binary.path, arguments, output: .file(log)), log)
    }

    /// Runs meter-agent to its end, its standard output and error apart.
    static func run(_ arguments: [String]) throws -> Result {
        guard let binary else { throw BinaryMissing() }
        let (out, err) = (makeTempDir(prefix: "gl-cli-out"), makeTempDir(prefix: "gl-cli-err"))
        defer { for path in [out, err] { try? FileManager.default.removeItem(atPath: path) } }
        let status = try SpawnedProcess(binary.path, arguments, output: .file(out), errors: .file(err)).waitUntilExit()
        return Result(
            status: status,
            output: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            error: (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        )
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var description: String { "meter-agent is not built: run `swift build` (make test does) before the tests" }
    }

    static func waitForLink(_ path: String) async throws {
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: path) {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test("emulate serves, read prints the table, SIGTERM stops cleanly and removes the link")
    func emulateAndRead() async throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("gl-cli-\(UUID().uuidString)").path
        let (emulator, emulatorLog) = try Self.start([
            "emulate", "--profile", "sdm630", "--unit", "1", "--profile", "sdm120", "--unit", "2",
            "--role", "consumer", "--role", "pv", "--pty-link", link, "--seed", "7",
            "--start", "2026-06-21T12:00:00Z", "--speed", "0",
        ])
        try await Self.waitForLink(link)
        let read = try Self.run(["read", "--device", link, "--unit", "1", "--profile", "sdm630", "--once"])
        #expect(read.status == 0, "\(read.error)")
        #expect(read.output.contains("sdm630 unit 1 on \(link)"))
        #expect(
            read.output.range(of: #"voltage_l1 +2[0-9]{2}\.[0-9]+ V +1-0:32\.7\.0"#, options: .regularExpression)
                != nil,
            "\(read.output)"
        )
        #expect(read.output.range(of: #"\d+ requests, bus time [0-9.]+ ms"#, options: .regularExpression) != nil)

        let json = try Self.run(["read", "--device", link, "--unit", "2", "--profile", "sdm120", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let values = object?["values"] as? [String: Double]
        #expect((values?["power"] ?? 0) < 0, "the PV meter exports at noon: \(json.output)")

        kill(emulator.processIdentifier, SIGTERM)
        emulator.waitUntilExit()
        let log = (try? String(contentsOfFile: emulatorLog, encoding: .utf8)) ?? ""
        #expect(emulator.terminationStatus == 0, "\(log)")
        #expect(log.contains("emulating meter"))
        #expect(!FileManager.default.fileExists(atPath: link))
    }

    @Test("two emulators with the same seed and clock give identical `read` output")
    func identicalRuns() async throws {
        var outputs: [String] = []
        for _ in 0..<2 {
            let link = FileManager.default.temporaryDirectory.appendingPathComponent("gl-same-\(UUID().uuidString)")
                .path
            let (emulator, _) = try Self.start([
                "emulate", "--profile", "sdm630", "--unit", "1", "--pty-link", link, "--seed", "11",
                "--start", "2026-01-15T18:30:00Z", "--speed", "0",
            ])
            try await Self.waitForLink(link)
            let read = try Self.run(["read", "--device", link, "--unit", "1", "--profile", "sdm630", "--once"])
            kill(emulator.processIdentifier, SIGTERM)
            emulator.waitUntilExit()
            #expect(read.status == 0, "\(read.error)")
            // Drop the header (link path, wall-clock time) and the bus-time footer.
            outputs.append(read.output.split(separator: "\n").dropFirst().dropLast().joined(separator: "\n"))
        }
        #expect(outputs[0] == outputs[1])
        #expect(outputs[0].split(separator: "\n").count == 57)
    }

    @Test("scan finds the units that answer")
    func scan() async throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("gl-scan-\(UUID().uuidString)").path
        let (emulator, _) = try Self.start([
            "emulate", "--profile", "sdm120", "--unit", "3", "--profile", "sdm120", "--unit", "5", "--pty-link", link,
        ])
        defer {
            kill(emulator.processIdentifier, SIGTERM)
            emulator.waitUntilExit()
        }
        try await Self.waitForLink(link)
        // The link exists before a starved emulator (a loaded CI machine) serves it: scan again,
        // up to 5 times, until it has answered; what scan reports is checked on the last run.
        var scan = try Self.run(["scan", "--device", link, "--units", "1-6", "--timeout", "500ms"])
        for _ in 1..<5 where !scan.output.contains("unit(s) answered: 3, 5") {
            scan = try Self.run(["scan", "--device", link, "--units", "1-6", "--timeout", "500ms"])
        }
        #expect(scan.status == 0, "\(scan.error)")
        #expect(scan.output.contains("2 unit(s) answered: 3, 5"), "\(scan.output)")
    }

    @Test(
        "errors are one line naming the thing and the fix",
        arguments: [
            (["read", "--device", "/dev/ttyNOPE7", "--unit", "1", "--profile", "sdm630"], "no such device"),
            (["read", "--device", "/dev/null", "--unit", "0", "--profile", "sdm630"], "--unit must be 1 to 247"),
            (
                ["read", "--device", "/dev/null", "--unit", "1", "--profile", "sdm999"],
                "available: abb-b23, dtsu666"
            ),
            (
                ["read", "--device", "/dev/null", "--unit", "1", "--profile", "sdm630", "--parity", "X"],
                "--parity 'X' is not a parity"
            ),
            (
                ["read", "--device", "/dev/null", "--unit", "1", "--profile", "sdm630", "--baud", "9601"],
                "--baud 9601 is not supported"
            ),
            (["read", "--unit", "1", "--profile", "sdm630"], "name exactly one meter connection"),
            (["read", "--tcp", "localhost", "--unit", "1", "--profile", "sdm630"], "needs HOST:PORT"),
            (["emulate", "--profile", "sdm630", "--unit", "1"], "choose where to serve"),
            (
                ["emulate", "--profile", "sdm630", "--unit", "1", "--role", "sun", "--tcp", "127.0.0.1:0"],
                "--role 'sun' is not one of"
            ),
            (
                ["emulate", "--profile", "sdm630", "--unit", "1", "--anomaly", "melt", "--tcp", "127.0.0.1:0"],
                "anomaly"
            ),
            (
                ["read", "--tcp", "127.0.0.1:1", "--unit", "1", "--profile", "sdm630", "--attempts", "1"],
                "connection refused"
            ),
            (["keygen", "--out", "/etc/hostname"], "exists; pass --force"),
            (["run", "--config", "agent.yaml", "--interval", "1s"], "--config names the buses"),
            (["run", "--config", "agent.yaml", "--baud", "9600"], "give each bus its baud and parity in the file"),
            (["run", "--config", "agent.yaml", "--mqtt", "http://broker:1883"], "has scheme 'http'; give mqtt://"),
            (["run", "--config", "agent.yaml", "--mqtt", "mqtt://broker/x"], "has a path or query"),
            (["run", "--config", "agent.yaml", "--mqtt-node", "garage"], "go with --mqtt URL"),
            (
                [
                    "run", "--device", "/dev/null", "--unit", "1", "--profile", "sdm630", "--key", "k", "--gateway",
                    "http://x", "--data", "d", "--ocmf-period", "7m",
                ],
                "--ocmf-period must be 1s to 1d and divide a day"
            ),
            (
                ["run", "--config", "agent.yaml", "--mqtt", "mqtt://broker", "--mqtt-ca", "ca.pem"],
                "--mqtt-ca is for TLS"
            ),
            (["run", "--config", "agent.yaml", "--mqtt", "mqtt://broker", "--mqtt-node", "a/b"], "--mqtt-node 'a/b'"),
            (
                [
                    "run", "--device", "/dev/null", "--unit", "1", "--profile", "sdm630", "--key", "k", "--gateway",
                    "ftp://x", "--data", "d",
                ],
                "is not an http:// or https:// URL"
            ),
        ]
    )
    func errors(arguments: [String], message: String) throws {
        let result = try Self.run(arguments)
        #expect(result.status != 0)
        #expect(result.error.contains(message), "\(result.error)")
        #expect(!result.error.contains("Fatal error"), "no crash dumps for user mistakes")
    }

    @Test("keygen --ocmf adds a P-256 key beside a meter key it keeps, and never overwrites one without --force")
    func keygenOCMF() throws {
        let directory = makeTempDir(prefix: "gl-keygen-ocmf")
        let key = directory + "/keys/house.key"
        #expect(try Self.run(["keygen", "--out", key]).status == 0)
        let meterKey = try String(contentsOfFile: key + ".pub", encoding: .utf8)
        let first = try Self.run(["keygen", "--out", key, "--ocmf"])
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output.contains("meter key \(key) kept"))
        #expect(try String(contentsOfFile: key + ".pub", encoding: .utf8) == meterKey)
        let publicKey = try String(contentsOfFile: key + ".ocmf.pub", encoding: .utf8)
        #expect(publicKey.hasPrefix("3059301306072a8648ce3d020106082a8648ce3d030107034200") && publicKey.count == 183)
        #expect(first.output.contains(publicKey.trimmingCharacters(in: .newlines)))
        let mode = try FileManager.default.attributesOfItem(atPath: key + ".ocmf")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try Self.run(["keygen", "--out", key, "--ocmf"])
        #expect(again.status != 0)
        #expect(again.error.contains("\(key).ocmf exists; pass --force"), "\(again.error)")
        #expect(try String(contentsOfFile: key + ".ocmf.pub", encoding: .utf8) == publicKey)
    }

    @Test("no answer from an absent unit says what to check")
    func noAnswer() async throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("gl-none-\(UUID().uuidString)").path
        let (emulator, _) = try Self.start(["emulate", "--profile", "sdm120", "--unit", "1", "--pty-link", link])
        defer {
            kill(emulator.processIdentifier, SIGTERM)
            emulator.waitUntilExit()
        }
        try await Self.waitForLink(link)
        let result = try Self.run([
            "read", "--device", link, "--unit", "9", "--profile", "sdm120",
            "--timeout", "100ms", "--attempts", "2",
        ])
        #expect(result.status == 1)
        #expect(result.error.contains("no answer from unit 9"), "\(result.error)")
        #expect(result.error.contains("A and B"))
    }
}

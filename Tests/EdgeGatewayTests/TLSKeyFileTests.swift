import ArgumentParser
import Foundation
import GridTLS
import TestSupport
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import OperatorKit

/// The TLS private key follows the rule of every private key file: not read through a
/// symbolic link, the user's own, and no access for group or others; `init` and
/// `tls-certificate` write it so that it passes.
@Suite("TLS key files: private as every key file")
struct TLSKeyFileTests {
    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    /// `serve --tls` (or `--tls-cert`/`--tls-key`) as it loads what it serves with.
    func serveIdentity(_ directory: DataDirectory, _ arguments: [String] = ["--tls"]) throws -> TLSIdentity? {
        try ServerTLSOptions.parse(arguments).identity(
            directory: directory.directory,
            listen: ListenAddress(argument: "127.0.0.1:0")!,
            logger: LogCapture().logger
        )
    }

    /// An operator's certificate and key (made elsewhere), the key with `keyMode`.
    func operatorFiles(in root: String, keyMode: Int) throws -> (certificate: String, key: String) {
        let made = try SelfSignedCertificate(hostnames: ["gw7.example.net"], subject: "Operator CA")
        let certificate = root + "/operator.crt"
        let key = root + "/operator.key"
        try made.certificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
        #expect(
            FileManager.default.createFile(
                atPath: key,
                contents: Data(made.privateKeyPEM.utf8),
                attributes: [.posixPermissions: keyMode]
            )
        )
        #expect(chmod(key, mode_t(keyMode)) == 0)
        return (certificate, key)
    }

    /// The error `body` throws, as the one line a command prints.
    func refusal(_ body: () throws -> Void) -> String {
        do {
            try body()
            Issue.record("expected a refusal")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("init and tls-certificate write tls.key with mode 0600, and serve --tls loads it")
    func writtenKeysPassTheirOwnCheck() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = DataDirectory(root.file("gw"))
        try await InitCommand.parse(["--data", dir.path]).run()
        #expect(mode(dir.directory.tlsKeyPath) == 0o600)
        let first = try #require(try serveIdentity(dir))

        try await TLSCertificateCommand.parse(["--data", dir.path, "--hostname", "gw7.example.net"]).run()
        #expect(mode(dir.directory.tlsKeyPath) == 0o600)
        let second = try #require(try serveIdentity(dir))
        #expect(second.fingerprint != first.fingerprint)

        let files = try operatorFiles(in: root.path, keyMode: 0o600)
        try await TLSCertificateCommand.parse([
            "--data", dir.path, "--tls-cert", files.certificate, "--tls-key", files.key,
        ]).run()
        #expect(mode(dir.directory.tlsKeyPath) == 0o600)
        #expect(
            try serveIdentity(dir)?.fingerprint
                == TLSIdentity(certificatePath: files.certificate, keyPath: files.key).fingerprint
        )
    }

    /// A link could point the server at a key someone else chose.
    @Test("a TLS key reached through a symbolic link is refused, naming the link")
    func symbolicLinkRefused() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = DataDirectory(root.file("gw"))
        try await InitCommand.parse(["--data", dir.path]).run()
        let link = root.file("tls-link.key")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dir.directory.tlsKeyPath)

        let served = refusal {
            _ = try serveIdentity(dir, ["--tls-cert", dir.directory.tlsCertificatePath, "--tls-key", link])
        }
        #expect(served.contains("TLS private key file \(link) is a symbolic link"), "\(served)")
        #expect(served.contains("Give the key file's own path"), "\(served)")

        // The data directory's own tls.key replaced by a link is refused as well.
        let moved = root.file("moved.key")
        #expect(rename(dir.directory.tlsKeyPath, moved) == 0)
        try FileManager.default.createSymbolicLink(atPath: dir.directory.tlsKeyPath, withDestinationPath: moved)
        let own = refusal { _ = try serveIdentity(dir) }
        #expect(own.contains("\(dir.directory.tlsKeyPath) is a symbolic link"), "\(own)")
    }

    /// Only root can give a file to another user, so this runs where tests run as root (CI).
    @Test("a TLS key another user owns is refused, naming the owner and the fix", .enabled(if: geteuid() == 0))
    func anotherUsersKeyRefused() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = DataDirectory(root.file("gw"))
        try await InitCommand.parse(["--data", dir.path]).run()
        #expect(chown(dir.directory.tlsKeyPath, 65534, 65534) == 0)
        let message = refusal { _ = try serveIdentity(dir) }
        #expect(
            message.contains("TLS private key file \(dir.directory.tlsKeyPath) belongs to user 65534"),
            "\(message)"
        )
        #expect(message.contains("Run as its owner, or `chown` it"), "\(message)")
    }

    @Test("a TLS key group or others can access is refused with `chmod 600` and its path")
    func looseKeyRefused() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let dir = DataDirectory(root.file("gw"))
        try await InitCommand.parse(["--data", dir.path]).run()
        let key = dir.directory.tlsKeyPath
        for loose in [0o640, 0o604, 0o644, 0o660, 0o601] {
            #expect(chmod(key, mode_t(loose)) == 0)
            let message = refusal { _ = try serveIdentity(dir) }
            #expect(
                message.contains(
                    "TLS private key file \(key) is accessible by group or others (mode 0\(String(loose, radix: 8)))"
                ),
                "\(message)"
            )
            #expect(message.contains("Run `chmod 600 \(key)`"), "\(message)")
        }
        #expect(chmod(key, 0o400) == 0)
        #expect(try serveIdentity(dir) != nil, "a key only its owner can read is served")
    }

    @Test("an operator's --tls-key others can read is refused by init before anything is made, and by tls-certificate")
    func looseOperatorKeyRefused() async throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let files = try operatorFiles(in: root.path, keyMode: 0o644)
        let fresh = DataDirectory(root.file("fresh"))
        let atInit = await refusalOf {
            try await InitCommand.parse(["--data", fresh.path, "--tls-cert", files.certificate, "--tls-key", files.key])
                .run()
        }
        #expect(atInit.contains("Run `chmod 600 \(files.key)`"), "\(atInit)")
        #expect(!FileManager.default.fileExists(atPath: fresh.path), "init stopped before creating the directory")

        let dir = DataDirectory(root.file("gw"))
        try await InitCommand.parse(["--data", dir.path]).run()
        let before = try Data(contentsOf: URL(fileURLWithPath: dir.directory.tlsKeyPath))
        let atRotation = await refusalOf {
            try await TLSCertificateCommand.parse([
                "--data", dir.path, "--tls-cert", files.certificate, "--tls-key", files.key,
            ]).run()
        }
        #expect(atRotation.contains("TLS private key file \(files.key) is accessible by group or others"))
        #expect(atRotation.contains("Run `chmod 600 \(files.key)`"), "\(atRotation)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.directory.tlsKeyPath)) == before)

        let served = refusal {
            _ = try serveIdentity(dir, ["--tls-cert", files.certificate, "--tls-key", files.key])
        }
        #expect(served.contains("Run `chmod 600 \(files.key)`"), "\(served)")
    }

    func refusalOf(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            Issue.record("expected a refusal")
            return ""
        } catch {
            return "\(error)"
        }
    }
}

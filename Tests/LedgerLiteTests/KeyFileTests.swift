import Foundation
import TestSupport
import Testing

@testable import LedgerLite
@testable import LedgerStore

@Suite struct KeyFileTests {
    func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func privateKeyRoundTripWithMode0600() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("meter.key")
        let identity = SigningIdentity()
        try KeyFile.writePrivateKey(identity, to: path)
        #expect(try mode(path) == 0o600)
        let loaded = try KeyFile.readPrivateKey(from: path)
        #expect(loaded.publicIdentity == identity.publicIdentity)
        // No temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["meter.key"])
    }

    @Test func privateKeyFileIsOpenSSLCompatiblePEM() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("k.pem")
        try KeyFile.writePrivateKey(TestKeys.meter, to: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(
            text
                == "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBERERERERERERERERERERERERERERERERERERERERER\n-----END PRIVATE KEY-----\n"
        )
    }

    /// A link could point the gateway at a key someone else chose.
    @Test func refusesAPrivateKeyReachedThroughASymbolicLink() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let real = dir.file("real.key")
        try KeyFile.writePrivateKey(SigningIdentity(), to: real)
        let link = dir.file("link.key")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        #expect(throws: KeyFileError.symbolicLink(path: link)) { try KeyFile.readPrivateKey(from: link) }
        #expect(throws: Never.self) { try KeyFile.readPrivateKey(from: real) }
    }

    /// Only root can give a file to another user, so this runs where tests run as root (CI).
    @Test(.enabled(if: geteuid() == 0)) func refusesAPrivateKeyAnotherUserOwns() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("theirs.key")
        try KeyFile.writePrivateKey(SigningIdentity(), to: path)
        #expect(chown(path, 65534, 65534) == 0)
        #expect(throws: KeyFileError.notOwned(path: path, owner: 65534, user: 0)) {
            try KeyFile.readPrivateKey(from: path)
        }
    }

    @Test func refusesGroupOrWorldReadablePrivateKey() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("loose.key")
        try KeyFile.writePrivateKey(TestKeys.meter, to: path)
        for bad in [0o640, 0o604, 0o644, 0o660] {
            try FileManager.default.setAttributes([.posixPermissions: bad], ofItemAtPath: path)
            #expect(throws: KeyFileError.insecurePermissions(path: path, mode: UInt32(bad))) {
                try KeyFile.readPrivateKey(from: path)
            }
        }
        do {
            _ = try KeyFile.readPrivateKey(from: path)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description.contains("chmod 600 \(path)"))
            #expect(error.description.contains(path))
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o400], ofItemAtPath: path)
        #expect(try KeyFile.readPrivateKey(from: path).id == TestKeys.meter.id)
    }

    @Test func doesNotOverwriteUnlessAsked() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("k")
        try KeyFile.writePrivateKey(TestKeys.meter, to: path)
        #expect(throws: KeyFileError.alreadyExists(path: path)) {
            try KeyFile.writePrivateKey(TestKeys.producer, to: path)
        }
        #expect(try KeyFile.readPrivateKey(from: path).id == TestKeys.meter.id)
        try KeyFile.writePrivateKey(TestKeys.producer, to: path, overwrite: true)
        #expect(try KeyFile.readPrivateKey(from: path).id == TestKeys.producer.id)
        #expect(try mode(path) == 0o600)
    }

    @Test func publicKeyFile() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("meter.pub")
        try KeyFile.writePublicKey(TestKeys.meter.publicIdentity, to: path, comment: "meter-1 kitchen")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "ed25519 0EqyMnQrtKs6E2i9RhXk5tAiSrcaAWuvhSCjMsl3hzc= meter-1 kitchen\n")
        #expect(try KeyFile.readPublicKey(from: path) == TestKeys.meter.publicIdentity)
        let parsed = try KeyFile.parsePublicKeyLine(
            "ed25519 0EqyMnQrtKs6E2i9RhXk5tAiSrcaAWuvhSCjMsl3hzc= meter-1 kitchen"
        )
        #expect(parsed.comment == "meter-1 kitchen")
        #expect(throws: KeyFileError.self) { try KeyFile.parsePublicKeyLine("rsa AAAA") }
        #expect(throws: KeyFileError.self) { try KeyFile.parsePublicKeyLine("ed25519 AAAA") }
    }

    @Test func malformedAndMissingFiles() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = dir.file("bad.key")
        #expect(
            FileManager.default.createFile(
                atPath: path,
                contents: Data("hello".utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        #expect(throws: KeyFileError.self) { try KeyFile.readPrivateKey(from: path) }
        do {
            _ = try KeyFile.readPrivateKey(from: dir.file("absent.key"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("absent.key"))
        }
    }

    @Test func keyIDIsFirst16BytesOfSHA256() {
        let key = TestKeys.gateway.publicIdentity
        #expect(key.id.bytes == Array(Hash256.sha256(key.rawBytes).bytes.prefix(16)))
        #expect(KeyID(hex: key.id.hex) == key.id)
    }
}

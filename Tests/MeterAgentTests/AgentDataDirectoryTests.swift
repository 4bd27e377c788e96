import Foundation
import TestSupport
import Testing

@testable import AgentCore

/// The agent's data directory (`--data`, `data:`) holds the outbox of signed readings not yet
/// acknowledged: whoever can write there can delete or replace them. It follows the rule of
/// the gateway's and the super node's data directories.
@Suite("Agent data directory: private, as the servers' are")
struct AgentDataDirectoryTests {
    func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    /// The error opening the outbox in `directory` throws, as the one line `run` prints.
    func refusal(_ directory: String) -> String {
        do {
            _ = try Outbox(directory: directory, capacity: 10)
            Issue.record("the outbox opened in \(directory)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("a missing data directory is created with mode 0700, parents included, and opened again")
    func createdPrivate() throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let data = root.file("var/agent-data")
        _ = try Outbox(directory: data, capacity: 10)
        #expect(mode(data) == 0o700)
        #expect(FileManager.default.fileExists(atPath: data + "/outbox.sqlite"))
        _ = try Outbox(directory: data, capacity: 10)
    }

    @Test("a data directory group or others can write to is refused with `chmod 700` and its path")
    func writableByOthersRefused() throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let data = root.file("agent-data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        for loose in [0o775, 0o757, 0o777, 0o720] {
            #expect(chmod(data, mode_t(loose)) == 0)
            let message = refusal(data)
            #expect(
                message.contains(
                    "data directory \(data) is writable by group or others (mode 0\(String(loose, radix: 8))); run `chmod 700 \(data)`"
                ),
                "\(message)"
            )
        }
        #expect(!FileManager.default.fileExists(atPath: data + "/outbox.sqlite"), "nothing was written there")

        // Only write access is refused, as for the servers' directories.
        #expect(chmod(data, 0o755) == 0)
        _ = try Outbox(directory: data, capacity: 10)
    }

    /// Only root can give a directory to another user, so this runs where tests run as root (CI).
    @Test("a data directory another user owns is refused, naming the owner", .enabled(if: geteuid() == 0))
    func anotherUsersDirectoryRefused() throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let data = root.file("agent-data")
        try FileManager.default.createDirectory(
            atPath: data,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        #expect(chown(data, 65534, 65534) == 0)
        let message = refusal(data)
        #expect(message.contains("data directory \(data) belongs to user 65534"), "\(message)")
        #expect(message.contains("run as its owner, or choose another --data path"), "\(message)")
    }

    @Test("a data path that is a file is refused")
    func fileRefused() throws {
        let root = try TempDir()
        defer { root.cleanup() }
        let data = root.file("agent-data")
        #expect(FileManager.default.createFile(atPath: data, contents: Data()))
        let message = refusal(data)
        #expect(message.contains("\(data) exists and is not a directory; choose another --data path"), "\(message)")
    }
}

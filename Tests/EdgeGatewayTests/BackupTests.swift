import Foundation
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

@Suite("Online backup")
struct BackupTests {
    @Test(
        "a backup taken while the gateway runs is a data directory that resumes where it was: sealed and pending entries"
    )
    func backupWhileServing() async throws {
        let h = try await Harness.make()
        defer {
            h.close()
            try? FileManager.default.removeItem(atPath: h.dir.path)
        }
        let meter = SigningIdentity()
        try await h.enroll(meter)
        let sealed = try await h.post((1...5).map { try h.reading(meter, $0) })
        #expect(sealed.allSatisfy { $0.isAcknowledged })
        await h.gateway.writer.sealNow()
        let pending = try await h.post((6...8).map { try h.reading(meter, $0) })
        #expect(pending.allSatisfy { $0.isAcknowledged })

        let out = h.dir.path + "-backup"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let summary = try GatewayBackup.write(from: h.dir, to: out)
        #expect(summary.pending == 3)
        #expect(summary.entries == 6)  // the enrollment and five readings
        #expect(Set(summary.files).isSuperset(of: ["gateway.key", "admin.token", "chain.sqlite", "pending.sqlite"]))
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o700)
        let keyMode = try FileManager.default.attributesOfItem(atPath: out + "/gateway.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        // The copy opens as the gateway it was, pending readings included, and verifies.
        let restored = try await Gateway.open(directory: DataDirectory(out), logger: .init(label: "test"))
        await restored.writer.sealNow()
        let next = await restored.writer.health()
        let key = restored.writer.gatewayKey.id
        await restored.shutdown()
        #expect(key == h.gateway.writer.gatewayKey.id)
        #expect(next.entries == 9)
        let verified = try VerifyCommand.check(DataDirectory(out))
        #expect(verified.ok)
        #expect(verified.entries == 9)

        // A second backup to the same place is refused; nothing of the first is touched.
        #expect(throws: BackupError.self) { try GatewayBackup.write(from: h.dir, to: out) }
        #expect(FileManager.default.fileExists(atPath: out + "/chain.sqlite"))
    }
}

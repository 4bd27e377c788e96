import Foundation
import Testing

@testable import EdgeGateway
@testable import GatewayCore
@testable import LedgerLite
@testable import LedgerStore

@Suite("A chain written before block header version 2")
struct ChainUpgradeTests {
    @Test("a gateway upgraded over a chain of version 1 headers continues it with version 2, and verify passes")
    func upgradedGatewayContinuesWithVersion2() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("gl-upgrade-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = DataDirectory(root + "/gw")
        let gatewayKey = try data.initialise()

        // The chain as an older gateway wrote it: version 1 headers.
        do {
            let meters = (0..<3).map { _ in SigningIdentity() }
            var builder = BlockBuilder(gateway: gatewayKey, policy: SealPolicy(maxEntries: 2, maxAgeMilliseconds: .max))
            builder.sealsLegacyHeaders = true
            let store = try ChainStore(path: data.chainPath)
            var time: Int64 = 1_767_225_600_000
            for meter in meters {
                time += 1000
                let (_, sealed) = try builder.addGatewayRecord(
                    .enrollment(Enrollment(meterKey: meter.publicIdentity, role: .producer, timestamp: time)),
                    at: time
                )
                if let sealed { try store.append(sealed) }
            }
            if let sealed = try builder.seal(at: time) { try store.append(sealed) }
            let legacyBlocks = try store.blockCount()
            #expect(legacyBlocks == 2)
        }

        // The upgraded gateway enrolls one more meter (offline, through its own writer).
        let newcomer = SigningIdentity()
        try KeyFile.writePublicKey(newcomer.publicIdentity, to: root + "/newcomer.key.pub")
        try await EnrollCommand.parse(["--data", data.path, "--meter-key", root + "/newcomer.key.pub"]).run()

        let reopened = try ChainStore(path: data.chainPath, check: .none)
        let versions = try (0..<reopened.blockCount()).map {
            try #require(try reopened.header(atHeight: $0)).header.version
        }
        #expect(versions == [1, 1, 2])
        let summary = try VerifyCommand.check(data)
        #expect(summary.ok)
        #expect(summary.meters == 4)
    }
}

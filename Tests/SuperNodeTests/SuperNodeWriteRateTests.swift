import Foundation
import GridAPI
import GridAPIServer
import OperatorKit
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNode
@testable import SuperNodeCore

/// Issue 13, point 5: the super node's write routes are rate-limited per source, answered
/// `rate-limited` (429) with Retry-After before the body is read.
@Suite("Super node write rate limit")
struct SuperNodeWriteRateTests {
    @Test func pushesOverTheRateAreRefusedWithRetryAfter() async throws {
        let h = try await NodeHarness.make()
        let gateway = TestKeys.key(0x98)
        let cert = try await h.certify(gateway)
        let chain = try ChainMaker.standard(gateway: gateway)
        let listen = ListenAddress(argument: "127.0.0.1:0")!
        // One write every 1,000 s after the burst: the third comes before the bucket refills.
        let limits = ServerLimits(writeRate: WriteRate(perSecond: 0.001, burst: 2))
        let group = h.node.makeServiceGroup(directory: h.dir, listen: listen, limits: limits, handleSignals: false)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await h.node.run(group, directory: h.dir, listen: listen) }
            defer { tasks.cancelAll() }
            try await waitUntil("the super node's URL") { h.dir.urlFile.read() != nil }
            let client = SuperNodeClient(base: try #require(h.dir.urlFile.read()))
            let push = PushRequest(
                certificate: Data(cert.bytes).base64EncodedString(),
                blocks: chain.blocks.map { Data($0.wireBytes()).base64EncodedString() }
            )
            let signer = RequestSigner(key: gateway, clock: h.clock.function)
            #expect(try await client.push(push, signer: signer, timeout: .seconds(30)).status == 200)
            // The same blocks again are a replay, answered from the stored checkpoints.
            #expect(try await client.push(push, signer: signer, timeout: .seconds(30)).status == 200)
            do throws(GridAPIError) {
                _ = try await client.push(push, signer: signer, timeout: .seconds(30))
                Issue.record("a third push within the burst's time was served")
            } catch {
                #expect(error.status == 429)
                #expect(error.retryAfter == GridAPIError.maxRetryAfter, "about 1,000 s, capped by the client")
                guard case .status(_, _, let reason, let detail, _, _) = error else { return }
                #expect(reason == "rate-limited")
                #expect(detail?.contains("--write-rate") == true)
            }
            // Reads are not counted.
            #expect(try await client.root(timeout: .seconds(10)).publicKey.isEmpty == false)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

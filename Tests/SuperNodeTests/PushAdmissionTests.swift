import Foundation
import GridAPI
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import LedgerLite
@testable import SuperNodeCore

/// Issue 13, point 5: the super node read pushes of up to 64 MiB before any check, so six
/// unauthenticated pushes took it to 657 MiB. Now a push's body is read only once its signed
/// stamp verifies under a gateway key the super node certified, and at most `BodyLimit.push`.
@Suite("Push admission before the body is read")
struct PushAdmissionTests {
    /// A body near the limit, as an attacker would send: it never decodes.
    static let bulk = Array("{\"blocks\": [\"".utf8) + [UInt8](repeating: 0x41, count: 30 << 20)

    static func refusal(_ data: Data) throws -> RejectionView {
        try #require(try JSONDecoder().decode(PushResponse.self, from: data).rejected)
    }

    @Test func anUnsignedPushIsRefusedBeforeItsBodyIsRead() async throws {
        let h = try await NodeHarness.make()
        let (status, data) = try await h.post(SuperNodeRoutes.blocks, body: Self.bulk, signature: nil)
        #expect(status == 401)
        #expect(try Self.refusal(data).reason == "missing-signature")
    }

    @Test func aPushSignedByAKeyNoCertificateBindsIsRefusedBeforeItsBodyIsRead() async throws {
        let h = try await NodeHarness.make()
        _ = try await h.certify(SigningIdentity())
        let stranger = SigningIdentity()
        let signature = try RequestSigning.headerValue(
            signer: stranger,
            at: h.clock.now,
            endpoint: SuperNodeRoutes.blocks,
            body: Self.bulk
        )
        let (status, data) = try await h.post(SuperNodeRoutes.blocks, body: Self.bulk, signature: signature)
        #expect(status == 403)
        let refusal = try Self.refusal(data)
        #expect(refusal.reason == "unknown-certificate")
        #expect(refusal.message.contains(stranger.id.hex))
    }

    @Test func aStaleStampOfACertifiedGatewayIsRefusedBeforeItsBodyIsRead() async throws {
        let h = try await NodeHarness.make()
        let gateway = SigningIdentity()
        _ = try await h.certify(gateway)
        let signature = try RequestSigning.headerValue(
            signer: gateway,
            at: h.clock.now - RequestAuthenticator.standardWindow - 1,
            endpoint: SuperNodeRoutes.blocks,
            body: Self.bulk
        )
        let (status, data) = try await h.post(SuperNodeRoutes.blocks, body: Self.bulk, signature: signature)
        #expect(status == 401)
        #expect(try Self.refusal(data).reason == "stale-request")
    }

    @Test func aCertifiedGatewaysPushBeyondTheLimitIs413() async throws {
        let h = try await NodeHarness.make()
        let gateway = SigningIdentity()
        _ = try await h.certify(gateway)
        let body = Array("{\"blocks\": [\"".utf8) + [UInt8](repeating: 0x41, count: BodyLimit.push)
        let signature = try RequestSigning.headerValue(
            signer: gateway,
            at: h.clock.now,
            endpoint: SuperNodeRoutes.blocks,
            body: body
        )
        let (status, data) = try await h.post(SuperNodeRoutes.blocks, body: body, signature: signature)
        #expect(status == 413)
        let refusal = try Self.refusal(data)
        #expect(refusal.reason == "body-too-large")
        #expect(refusal.message.contains("larger than \(BodyLimit.push) bytes"))
        // Below 64 MiB, where it used to be.
        #expect(BodyLimit.push < 64 << 20)
    }

    @Test func anEscalationBeyondItsLimitIs413() async throws {
        let h = try await NodeHarness.make()
        let body = Array("{\"certificate\": \"".utf8) + [UInt8](repeating: 0x41, count: BodyLimit.escalation)
        let (status, data) = try await h.post(SuperNodeRoutes.escalations, body: body, signature: nil)
        #expect(status == 413)
        let answer = try JSONDecoder().decode(EscalationAnswer.self, from: data)
        #expect(answer.reason == "body-too-large")
    }
}

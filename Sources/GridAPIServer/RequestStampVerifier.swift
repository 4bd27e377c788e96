import Foundation
import GridAPI
import Hummingbird
import LedgerLite
import Synchronization

/// Why a request's `GridLedger-Signature` stamp (docs/FORMATS.md, "Request stamp") is not
/// accepted. Each server words it in its own refusals (the super node's reasons, the
/// gateway's `{"error": …}`).
package enum StampRefusal: Error, Equatable {
    /// The request carries no stamp.
    case missing
    /// The header is not base64 of a signed request stamp.
    case malformed(String)
    /// The stamp is signed by another key than the one the request speaks for.
    case otherSigner(KeyID)
    /// The stamp was made for another route.
    case otherRoute
    /// The stamp does not cover this body.
    case otherBody
    /// The signature does not verify under the signer's key.
    case badSignature
    /// The stamp's time is not within `window` ms of the server's clock.
    case outsideWindow(stamped: Int64, window: Int64)
    /// The stamp's nonce was used before within the window.
    case replayed(nonce: [UInt8])
    /// The signer has `limit` nonces within the window already.
    case tooMany(limit: Int, window: Int64)
}

/// Checks signed request stamps for a server: the signer's key signed this route and these
/// body bytes, within `window` of the server's clock, with a nonce it has not used within it.
/// The super node checks gateways' pushes and escalations with it (`RequestAuthenticator`),
/// a gateway its meters' reads of their own data (`HouseholdReadAccess`).
package final class RequestStampVerifier: Sendable {
    /// How far a stamp's time may be from the server's clock, either way: 5 minutes.
    package static let standardWindow: Int64 = 5 * 60 * 1000

    private let nonces: Mutex<NonceRegister>

    package init(window: Int64 = standardWindow, nonceLimit: Int) {
        nonces = Mutex(NonceRegister(window: window, limit: nonceLimit))
    }

    /// How far a stamp's time may be from the clock, ms.
    package var window: Int64 { nonces.withLock { $0.window } }

    /// Most nonces kept per signer.
    package var nonceLimit: Int { nonces.withLock { $0.limit } }

    /// Nonces kept now.
    package var keptNonces: Int { nonces.withLock { $0.count } }

    /// The signed stamp a `GridLedger-Signature` header carries.
    package static func stamp(in header: String?) throws(StampRefusal) -> SignedRequestStamp {
        guard let text = header, !text.isEmpty else { throw .missing }
        guard text.utf8.count <= 4 * SignedRequestStamp.encodedLength, let data = Data(base64Encoded: text) else {
            throw .malformed("\(RequestSigning.header) is not base64")
        }
        do { return try SignedRequestStamp(bytes: data) } catch {
            throw .malformed("\(RequestSigning.header) is not a signed request stamp: \(error)")
        }
    }

    /// Before a body is read: the stamp verifies under `key` and is within the window.
    /// Nothing is recorded.
    package func checkSignatureAndTime(
        _ signed: SignedRequestStamp,
        key: PublicIdentity,
        now: Int64
    ) throws(StampRefusal) {
        guard signed.isSignatureValid(by: key) else { throw .badSignature }
        try checkTime(signed.stamp, now: now)
    }

    /// The whole check of `signed` for a request to `endpoint` with `body` that speaks for
    /// `signer`, whose key is `key`; then its nonce is recorded (only once everything else
    /// holds, so only the key's holder spends nonces).
    package func verify(
        _ signed: SignedRequestStamp,
        signer: KeyID,
        key: PublicIdentity,
        endpoint: Endpoint,
        body: [UInt8],
        now: Int64
    ) throws(StampRefusal) {
        let stamp = signed.stamp
        guard stamp.signer == signer else { throw .otherSigner(stamp.signer) }
        guard stamp.routeHash == RequestSigning.route(endpoint) else { throw .otherRoute }
        guard stamp.bodyHash == Hash256.sha256(body) else { throw .otherBody }
        guard signed.isSignatureValid(by: key) else { throw .badSignature }
        try checkTime(stamp, now: now)
        try nonces.withLock { register throws(StampRefusal) in
            do throws(NonceRegister.Refusal) {
                try register.take(stamp.nonce, signer: signer, timestamp: stamp.timestamp, now: now)
            } catch {
                switch error {
                case .seen: throw .replayed(nonce: stamp.nonce)
                case .full: throw .tooMany(limit: register.limit, window: register.window)
                }
            }
        }
    }

    private func checkTime(_ stamp: RequestStamp, now: Int64) throws(StampRefusal) {
        let window = self.window
        guard ClockWindow(milliseconds: window).contains(stamp.timestamp, around: now) else {
            throw .outsideWindow(stamped: stamp.timestamp, window: window)
        }
    }
}

extension Request {
    /// The request's `GridLedger-Signature` header (a signed request stamp, base64), if it has one.
    package var stampHeader: String? {
        let name = RequestSigning.header.lowercased()
        return headers.first { $0.name.canonicalName == name }?.value
    }
}

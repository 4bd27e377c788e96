import Foundation
import GridAPI
import LedgerLite
import Synchronization

/// Checks that a request speaking for a gateway was signed by that gateway's certified key
/// (docs/SUPERNODE.md, "Signed requests"): a certificate is public, so it proves nothing by
/// itself. The stamp must sign this route and these body bytes, be stamped within `window`
/// of the super node's clock, and carry a nonce this gateway has not used within it.
package final class RequestAuthenticator: Sendable {
    /// How far a stamp's time may be from the super node's clock, either way: 5 minutes.
    package static let standardWindow: Int64 = 5 * 60 * 1000
    /// Most nonces kept per gateway within the window (about 330 signed requests a second
    /// for 10 minutes); a gateway beyond it is refused until its older nonces expire.
    package static let standardNonceLimit = 200_000

    private let nonces: Mutex<NonceRegister>

    /// How far a stamp's time may be from the clock, ms.
    package var window: Int64 { nonces.withLock { $0.window } }

    package init(window: Int64 = standardWindow, nonceLimit: Int = standardNonceLimit) {
        nonces = Mutex(NonceRegister(window: window, limit: nonceLimit))
    }

    /// Nonces kept now.
    package var keptNonces: Int { nonces.withLock { $0.count } }

    /// Checks `proof` for a request to `endpoint` under `certificate` at `now`, and records
    /// its nonce (only once everything else holds, so only the key's holder spends nonces).
    /// - Throws: `Rejection` (`missing-signature`, `malformed-signature`, `bad-signature`,
    ///   `stale-request`, `replayed-request` or `too-many-requests`).
    package func authenticate(
        _ proof: RequestProof,
        endpoint: Endpoint,
        certificate: GatewayCertificate,
        now: Int64
    ) throws(Rejection) {
        let gateway = certificate.gateway
        guard let text = proof.signature, !text.isEmpty else {
            throw Rejection(
                reason: .missingSignature,
                message:
                    "the request carries no \(RequestSigning.header) header; a gateway signs each request with its key (a certificate alone does not prove who sends it)"
            )
        }
        guard text.utf8.count <= 4 * SignedRequestStamp.encodedLength, let data = Data(base64Encoded: text) else {
            throw Rejection(reason: .malformedSignature, message: "\(RequestSigning.header) is not base64")
        }
        let signed: SignedRequestStamp
        do { signed = try SignedRequestStamp(bytes: data) } catch {
            throw Rejection(
                reason: .malformedSignature,
                message: "\(RequestSigning.header) is not a signed request stamp: \(error)"
            )
        }
        let stamp = signed.stamp
        guard stamp.signer == gateway else {
            throw Rejection(
                reason: .badSignature,
                message:
                    "the request is signed by key \(stamp.signer.hex), not by gateway \(gateway.hex)'s certified key"
            )
        }
        guard stamp.routeHash == RequestSigning.route(endpoint) else {
            throw Rejection(
                reason: .badSignature,
                message: "the signature was made for another route than \(endpoint)"
            )
        }
        guard stamp.bodyHash == Hash256.sha256(proof.body) else {
            throw Rejection(
                reason: .badSignature,
                message: "the signature does not cover this body (it was altered, or signed for another request)"
            )
        }
        guard signed.isSignatureValid(by: certificate.gatewayKey) else {
            throw Rejection(
                reason: .badSignature,
                message: "the signature does not verify under gateway \(gateway.hex)'s certified key"
            )
        }
        try nonces.withLock { register throws(Rejection) in
            let window = register.window
            guard stamp.timestamp >= now - window, stamp.timestamp <= now + window else {
                throw Rejection(
                    reason: .staleRequest,
                    message:
                        "the request is stamped \(Timestamps.iso(stamp.timestamp)) but the super node's clock says \(Timestamps.iso(now)); a stamp must be within \(window / 1000) s of it (check the gateway's clock)"
                )
            }
            do {
                try register.take(stamp.nonce, gateway: gateway, timestamp: stamp.timestamp, now: now)
            } catch NonceRegister.Refusal.seen {
                throw Rejection(
                    reason: .replayedRequest,
                    message:
                        "nonce \(encodeHex(stamp.nonce)) of gateway \(gateway.hex) was used before; a signed request is taken once (sign it again with a fresh nonce)"
                )
            } catch {
                throw Rejection(
                    reason: .tooManyRequests,
                    message:
                        "gateway \(gateway.hex) sent more than \(register.limit) signed requests within \(window / 1000) s; wait and send again"
                )
            }
        }
    }
}

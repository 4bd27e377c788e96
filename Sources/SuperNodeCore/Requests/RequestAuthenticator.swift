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

    /// Before a body is read: the stamp in `signature` must be signed by `certifiedKey` (the
    /// key this super node certified for the gateway the stamp names) and stamped within the
    /// window. So only a gateway's key can make the super node read a large body. Nothing is
    /// recorded: `authenticate` checks the body and takes the nonce once the body is read.
    /// - Throws: `Rejection` (`unknown-certificate`, `bad-signature` or `stale-request`).
    package func admit(_ signed: SignedRequestStamp, certifiedKey: PublicIdentity?, now: Int64) throws(Rejection) {
        guard let certifiedKey, certifiedKey.id == signed.stamp.signer else {
            throw Rejection(
                reason: .unknownCertificate,
                message:
                    "the request is signed by key \(signed.stamp.signer.hex), which no certificate of this super node binds: certify the gateway here (`super-node certify`), or point it at the super node that certified it"
            )
        }
        guard signed.isSignatureValid(by: certifiedKey) else {
            throw Rejection(
                reason: .badSignature,
                message: "the signature does not verify under gateway \(signed.stamp.signer.hex)'s certified key"
            )
        }
        try checkTime(signed.stamp, now: now)
    }

    /// The signed stamp a request's `GridLedger-Signature` header carries.
    /// - Throws: `Rejection` (`missing-signature` or `malformed-signature`).
    package static func stamp(in signature: String?) throws(Rejection) -> SignedRequestStamp {
        guard let text = signature, !text.isEmpty else {
            throw Rejection(
                reason: .missingSignature,
                message:
                    "the request carries no \(RequestSigning.header) header; a gateway signs each request with its key (a certificate alone does not prove who sends it)"
            )
        }
        guard text.utf8.count <= 4 * SignedRequestStamp.encodedLength, let data = Data(base64Encoded: text) else {
            throw Rejection(reason: .malformedSignature, message: "\(RequestSigning.header) is not base64")
        }
        do { return try SignedRequestStamp(bytes: data) } catch {
            throw Rejection(
                reason: .malformedSignature,
                message: "\(RequestSigning.header) is not a signed request stamp: \(error)"
            )
        }
    }

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
        let signed = try Self.stamp(in: proof.signature)
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
        try checkTime(stamp, now: now)
        try nonces.withLock { register throws(Rejection) in
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
                        "gateway \(gateway.hex) sent more than \(register.limit) signed requests within \(register.window / 1000) s; wait and send again"
                )
            }
        }
    }

    /// A stamp must be within `window` of `now`, either way.
    private func checkTime(_ stamp: RequestStamp, now: Int64) throws(Rejection) {
        let window = self.window
        guard stamp.timestamp >= now - window, stamp.timestamp <= now + window else {
            throw Rejection(
                reason: .staleRequest,
                message:
                    "the request is stamped \(Timestamps.iso(stamp.timestamp)) but the super node's clock says \(Timestamps.iso(now)); a stamp must be within \(window / 1000) s of it (check the gateway's clock)"
            )
        }
    }
}

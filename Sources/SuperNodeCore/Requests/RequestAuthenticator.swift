import Foundation
import GridAPI
import GridAPIServer
import LedgerLite

/// Checks that a request speaking for a gateway was signed by that gateway's certified key
/// (docs/SUPERNODE.md, "Signed requests"): a certificate is public, so it proves nothing by
/// itself. The stamp must sign this route and these body bytes, be stamped within `window`
/// of the super node's clock, and carry a nonce this gateway has not used within it
/// (`RequestStampVerifier`); refusals are worded as the super node's reasons.
package final class RequestAuthenticator: Sendable {
    /// How far a stamp's time may be from the super node's clock, either way: 5 minutes.
    package static let standardWindow = RequestStampVerifier.standardWindow
    /// Most nonces kept per gateway within the window (about 330 signed requests a second
    /// for 10 minutes); a gateway beyond it is refused until its older nonces expire.
    package static let standardNonceLimit = 200_000

    private let verifier: RequestStampVerifier

    /// How far a stamp's time may be from the clock, ms.
    package var window: Int64 { verifier.window }

    /// The super node's clock window: how far a gateway's clock may be from the super node's.
    /// A request stamp must be within it either way, and a block may not end further ahead
    /// (`future-timestamp`, `SuperNode.push`): one window for both, so a gateway whose signed
    /// pushes are taken has its blocks taken.
    package var clockWindow: ClockWindow { ClockWindow(milliseconds: window) }

    package init(window: Int64 = standardWindow, nonceLimit: Int = standardNonceLimit) {
        verifier = RequestStampVerifier(window: window, nonceLimit: nonceLimit)
    }

    /// Nonces kept now.
    package var keptNonces: Int { verifier.keptNonces }

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
        do { try verifier.checkSignatureAndTime(signed, key: certifiedKey, now: now) } catch {
            throw rejection(error, gateway: signed.stamp.signer, now: now)
        }
    }

    /// The signed stamp a request's `GridLedger-Signature` header carries.
    /// - Throws: `Rejection` (`missing-signature` or `malformed-signature`).
    package static func stamp(in signature: String?) throws(Rejection) -> SignedRequestStamp {
        do { return try RequestStampVerifier.stamp(in: signature) } catch .missing {
            throw Rejection(
                reason: .missingSignature,
                message:
                    "the request carries no \(RequestSigning.header) header; a gateway signs each request with its key (a certificate alone does not prove who sends it)"
            )
        } catch {
            throw Rejection(reason: .malformedSignature, message: "\(error.malformedDetail)")
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
        do {
            try verifier.verify(
                signed,
                signer: gateway,
                key: certificate.gatewayKey,
                endpoint: endpoint,
                body: proof.body,
                now: now
            )
        } catch {
            throw rejection(error, gateway: gateway, endpoint: endpoint, now: now)
        }
    }

    /// A stamp refusal as the super node's reason and sentence.
    private func rejection(
        _ refusal: StampRefusal,
        gateway: GatewayID,
        endpoint: Endpoint? = nil,
        now: Int64
    ) -> Rejection {
        switch refusal {
        case .missing, .malformed:
            // `stamp(in:)` words these.
            return Rejection(reason: .malformedSignature, message: refusal.malformedDetail)
        case .otherSigner(let signer):
            return Rejection(
                reason: .badSignature,
                message: "the request is signed by key \(signer.hex), not by gateway \(gateway.hex)'s certified key"
            )
        case .otherRoute:
            return Rejection(
                reason: .badSignature,
                message: "the signature was made for another route than \(endpoint.map { "\($0)" } ?? "this one")"
            )
        case .otherBody:
            return Rejection(
                reason: .badSignature,
                message: "the signature does not cover this body (it was altered, or signed for another request)"
            )
        case .badSignature:
            return Rejection(
                reason: .badSignature,
                message: "the signature does not verify under gateway \(gateway.hex)'s certified key"
            )
        case .outsideWindow(let stamped, let window):
            return Rejection(
                reason: .staleRequest,
                message:
                    "the request is stamped \(Timestamps.iso(stamped)) but the super node's clock says \(Timestamps.iso(now)); a stamp must be within \(window / 1000) s of it (check the gateway's clock)"
            )
        case .replayed(let nonce):
            return Rejection(
                reason: .replayedRequest,
                message:
                    "nonce \(encodeHex(nonce)) of gateway \(gateway.hex) was used before; a signed request is taken once (sign it again with a fresh nonce)"
            )
        case .tooMany(let limit, let window):
            return Rejection(
                reason: .tooManyRequests,
                message:
                    "gateway \(gateway.hex) sent more than \(limit) signed requests within \(window / 1000) s; wait and send again"
            )
        }
    }
}

extension StampRefusal {
    /// What is wrong with a header that carries no usable stamp.
    var malformedDetail: String {
        switch self {
        case .malformed(let detail): detail
        case .missing: "the request carries no \(RequestSigning.header) header"
        default: "\(self)"
        }
    }
}

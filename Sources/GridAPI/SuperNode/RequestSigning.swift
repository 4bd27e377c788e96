import Foundation
import LedgerLite

/// How a gateway proves, on each request that speaks for it (`POST /v1/blocks`,
/// `POST /v1/escalations`), that it holds the key its certificate binds: the
/// `GridLedger-Signature` header carries a signed request stamp (docs/FORMATS.md, "Request
/// stamp") over the route and the exact body bytes, with a time and a fresh nonce.
package enum RequestSigning {
    /// The header's name.
    package static let header = "GridLedger-Signature"

    /// The header's value for `body` sent to `endpoint`: base64 of the signed stamp.
    package static func headerValue(
        signer: SigningIdentity,
        at timestamp: Int64,
        nonce: [UInt8] = RequestStamp.randomNonce(),
        endpoint: Endpoint,
        body: [UInt8]
    ) throws -> String {
        let stamp = try RequestStamp(
            signer: signer.id,
            timestamp: timestamp,
            nonce: nonce,
            routeHash: route(endpoint),
            bodyHash: Hash256.sha256(body)
        )
        return Data(try SignedRequestStamp.sign(stamp, with: signer).bytes).base64EncodedString()
    }

    /// The route hash a stamp carries for `endpoint` (method and path template).
    package static func route(_ endpoint: Endpoint) -> Hash256 {
        RequestStamp.route(method: endpoint.method.rawValue, path: endpoint.template)
    }
}

/// A gateway's key and clock, for the requests it signs.
package struct RequestSigner: Sendable {
    package var key: SigningIdentity
    /// Now, ms since the Unix epoch, UTC.
    package var clock: @Sendable () -> Int64

    package init(key: SigningIdentity, clock: @escaping @Sendable () -> Int64) {
        self.key = key
        self.clock = clock
    }
}

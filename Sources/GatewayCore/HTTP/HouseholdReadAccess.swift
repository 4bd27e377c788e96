import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite

/// Who may read a household's data (docs/GATEWAY.md, "Household data"): a meter's readings
/// and receipts, anomalies, dispatches and the entries of a block. A gateway that listens on
/// loopback serves them to anyone on this machine; one that listens beyond loopback serves
/// them only to the operator (`Authorization: Bearer` with the admin token) or, for a meter's
/// own readings and receipts, to a request signed by that meter's key (`GridLedger-Signature`,
/// as `meter-agent readings` and `meter-agent receipt` send it). Aggregate views (block
/// headers, the TNT table, fairness, meters and their last sequence numbers) stay public.
package struct HouseholdReadAccess: Sendable {
    /// False when the gateway listens on loopback only.
    package let restricted: Bool
    let token: String
    let keys: KeyDirectory
    let stamps: RequestStampVerifier
    let clock: @Sendable () -> Int64

    /// Nonces kept per meter within the 5-minute window: a meter reading its own data a few
    /// times a minute needs a handful.
    package static let nonceLimit = 1000

    package init(
        restricted: Bool,
        token: String,
        keys: KeyDirectory,
        stamps: RequestStampVerifier,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.restricted = restricted
        self.token = token
        self.keys = keys
        self.stamps = stamps
        self.clock = clock
    }

    /// Lets `request` to `endpoint` through, or refuses it with 401 saying what it needs.
    /// - Parameter meter: the meter whose data it is, when the route is one meter's; its own
    ///   signed request is then enough.
    package func authorize(_ request: Request, endpoint: Endpoint, meter: MeterID?) throws(APIError) {
        guard restricted, !Gateway.carriesToken(request, token) else { return }
        let what = meter.map { "the data of meter \($0.hex)" } ?? "\(endpoint.template)"
        let operatorOnly =
            "\(what) is household data and this gateway listens beyond loopback: send the operator's admin token (`Authorization: Bearer <token>`, DIR/admin.token)"
        guard let meter else { throw APIError(.unauthorized, operatorOnly) }
        let header = request.stampHeader
        if request.headers[.authorization] != nil, header == nil {
            throw APIError(.unauthorized, "wrong admin token: " + operatorOnly)
        }
        let help =
            operatorOnly
            + ", or sign the request with the meter's own key (`meter-agent readings` and `meter-agent receipt` do)"
        do {
            let signed = try RequestStampVerifier.stamp(in: header)
            guard let key = keys.key(of: meter) else {
                throw APIError(.unauthorized, "meter \(meter.hex) is not enrolled with this gateway; " + help)
            }
            try stamps.verify(signed, signer: meter, key: key, endpoint: endpoint, body: [], now: clock())
        } catch let refusal as StampRefusal {
            throw APIError(.unauthorized, Self.describe(refusal, meter: meter) + "; " + help)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.unauthorized, help)
        }
    }

    /// Whether a stream that mixes public and household data (`GET /v1/events`) may carry the
    /// household part for `request`: always on loopback, else only with the operator's token.
    /// - Throws: 401 when the request carries a token that is not the operator's, so that a
    ///   mistyped token is told, not silently served the public part.
    package func allowsHouseholdData(_ request: Request) throws(APIError) -> Bool {
        guard restricted, !Gateway.carriesToken(request, token) else { return true }
        guard request.headers[.authorization] == nil else {
            throw APIError(
                .unauthorized,
                "wrong admin token: household data in the event stream needs the operator's admin token (`Authorization: Bearer <token>`, DIR/admin.token); without the header the stream carries public data only"
            )
        }
        return false
    }

    private static func describe(_ refusal: StampRefusal, meter: MeterID) -> String {
        switch refusal {
        case .missing: "the request carries neither a token nor a signature"
        case .malformed(let detail): detail
        case .otherSigner(let signer): "the request is signed by key \(signer.hex), not by meter \(meter.hex)"
        case .otherRoute: "the signature was made for another route"
        case .otherBody: "the signature does not cover this request"
        case .badSignature: "the signature does not verify under meter \(meter.hex)'s enrolled key"
        case .outsideWindow(_, let window):
            "the request is stamped more than \(window / 1000) s from the gateway's clock (check this machine's clock)"
        case .replayed: "the request's nonce was used before (sign each request afresh)"
        case .tooMany(let limit, let window):
            "meter \(meter.hex) sent more than \(limit) signed reads within \(window / 1000) s; wait"
        }
    }
}

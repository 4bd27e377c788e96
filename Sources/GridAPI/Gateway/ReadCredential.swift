/// What a read of household data carries (docs/GATEWAY.md, "Household data"): a gateway
/// listening beyond loopback serves a meter's readings and receipts only to the operator or
/// to the meter itself.
package enum ReadCredential: Sendable {
    /// Nothing: enough on a gateway that listens on loopback only.
    case none
    /// The operator's admin token (`DIR/admin.token`).
    case adminToken(String)
    /// A request stamp signed by the meter's own key (`GridLedger-Signature`).
    case meter(RequestSigner)

    /// The headers for a GET of `endpoint` (a GET has an empty body).
    func headers(for endpoint: Endpoint) throws -> [(String, String)] {
        switch self {
        case .none:
            return []
        case .adminToken(let token):
            return [("Authorization", "Bearer \(token)")]
        case .meter(let signer):
            let value = try RequestSigning.headerValue(
                signer: signer.key,
                at: signer.clock(),
                endpoint: endpoint,
                body: []
            )
            return [(RequestSigning.header, value)]
        }
    }
}

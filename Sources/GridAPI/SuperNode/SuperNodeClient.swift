import AsyncHTTPClient
import Foundation

/// The super node's HTTP API as typed calls: what a gateway sends (block pushes, the root
/// key, escalations). Callers keep their own retries, backoff and logging.
package struct SuperNodeClient: Sendable {
    /// The super node's base URL, without a trailing slash.
    package let base: String
    package let client: HTTPClient
    /// Which certificate an https:// super node must present, and the gateway's client
    /// certificate.
    package let tls: ClientTLS

    package init(base: String, client: HTTPClient = .gridLedger, tls: ClientTLS = .system) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.client = client
        self.tls = tls
    }

    /// The absolute URL of `endpoint` with its path parameters filled in.
    package func url(_ endpoint: Endpoint, _ parameters: [String: String] = [:]) -> String {
        base + endpoint.path(parameters)
    }

    private var exchange: JSONExchange { JSONExchange(client: client, tls: tls) }

    /// `POST /v1/blocks`, signed by the gateway: checkpoints and a refusal come in the same
    /// shape, so any status whose body is a `PushResponse` is an answer.
    package func push(
        _ push: PushRequest,
        signer: RequestSigner,
        timeout: Duration,
        limit: Int = 8 << 20
    ) async throws(GridAPIError) -> Answer<PushResponse> {
        let url = url(SuperNodeRoutes.blocks)
        let answer = try await signed(SuperNodeRoutes.blocks, push, signer: signer, timeout: timeout, limit: limit)
        return try JSONExchange.any(PushResponse.self, answer, url: url)
    }

    /// `GET /v1/root`: the root key the super node signs with (not yet trusted: the caller
    /// checks it against its certificate).
    package func root(timeout: Duration, limit: Int = 64 << 10) async throws(GridAPIError) -> RootView {
        let url = url(SuperNodeRoutes.root)
        return try JSONExchange.ok(
            RootView.self,
            try await exchange.get(url: url, timeout: timeout, limit: limit),
            url: url
        )
    }

    /// `POST /v1/escalations`, signed by the gateway: served, unserved and refused come in
    /// the same shape.
    package func escalate(
        _ submission: EscalationSubmission,
        signer: RequestSigner,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Answer<EscalationAnswer> {
        let url = url(SuperNodeRoutes.escalations)
        let answer = try await signed(
            SuperNodeRoutes.escalations,
            submission,
            signer: signer,
            timeout: timeout,
            limit: limit
        )
        return try JSONExchange.any(EscalationAnswer.self, answer, url: url)
    }

    /// Encodes `body` once, signs those bytes (`RequestSigning`) and sends them verbatim.
    private func signed(
        _ endpoint: Endpoint,
        _ body: some Encodable,
        signer: RequestSigner,
        timeout: Duration,
        limit: Int
    ) async throws(GridAPIError) -> HTTPAnswer {
        let url = url(endpoint)
        let bytes: [UInt8]
        let signature: String
        do {
            bytes = Array(try JSONEncoder().encode(body))
            signature = try RequestSigning.headerValue(
                signer: signer.key,
                at: signer.clock(),
                endpoint: endpoint,
                body: bytes
            )
        } catch {
            throw .transport(url: url, error: error)
        }
        return try await exchange.send(
            endpoint.method,
            url: url,
            jsonBytes: bytes,
            headers: [(RequestSigning.header, signature)],
            timeout: timeout,
            limit: limit
        )
    }
}

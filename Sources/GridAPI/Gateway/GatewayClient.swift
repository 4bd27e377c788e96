import AsyncHTTPClient
import Foundation

/// The edge gateway's HTTP API as typed calls: what the meter agent sends (readings, offers,
/// requests, meter look-ups), the operator's admin calls and the super node's (TNT table,
/// escalated dispatches). Callers keep their own retries, backoff and logging.
package struct GatewayClient: Sendable {
    /// The gateway's base URL, e.g. http://127.0.0.1:8080.
    package let base: URL
    package let client: HTTPClient
    /// Which certificate an https:// gateway must present.
    package let tls: ClientTLS

    package init(base: URL, client: HTTPClient = .gridLedger, tls: ClientTLS = .system) {
        self.base = base
        self.client = client
        self.tls = tls
    }

    /// Runs `body` with a client of its own for `base` (connect timeout 2 s, read timeout
    /// 15 s) and shuts that client down afterwards, whether `body` returns or throws.
    package static func withClient<T: Sendable>(
        base: URL,
        tls: ClientTLS = .system,
        _ body: (GatewayClient) async throws -> T
    ) async throws -> T {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .gridLedger(connect: .seconds(2), read: .seconds(15))
        )
        let result: T
        do {
            result = try await body(GatewayClient(base: base, client: client, tls: tls))
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    /// The absolute URL of `endpoint` with its path parameters filled in.
    package func url(_ endpoint: Endpoint, _ parameters: [String: String] = [:]) -> String {
        base.appendingPathComponent(String(endpoint.path(parameters).dropFirst())).absoluteString
    }

    private var exchange: JSONExchange { JSONExchange(client: client, tls: tls) }

    // MARK: meters (agent)

    /// `POST /v1/readings`: one result per record. Any status but 200 is a `.status` error
    /// (413: the batch is too large).
    package func postReadings(
        _ batch: IngestBatch,
        timeout: Duration,
        limit: Int = 16 << 20
    ) async throws(GridAPIError) -> IngestResponse {
        let url = url(GatewayRoutes.readings)
        let answer = try await exchange.send(.post, url: url, json: batch, timeout: timeout, limit: limit)
        return try JSONExchange.ok(IngestResponse.self, answer, url: url)
    }

    /// `GET /v1/meters/{id}`, read for the meter's last accepted sequence number only: the
    /// agent needs nothing else, and a gateway's other fields may change.
    package func lastSequence(
        ofMeter id: String,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> UInt64 {
        struct LastSequence: Decodable { var lastSequence: UInt64 }
        let url = url(GatewayRoutes.meter, ["id": id])
        let answer = try await exchange.get(url: url, timeout: timeout, limit: limit)
        return try JSONExchange.ok(LastSequence.self, answer, url: url).lastSequence
    }

    /// `GET /healthz`, read for the gateway's id (its key id, hex) only: the agent addresses
    /// its readings to it.
    package func gatewayID(timeout: Duration, limit: Int = 1 << 20) async throws(GridAPIError) -> String {
        struct GatewayOfHealth: Decodable { var gateway: String }
        let url = url(GatewayRoutes.health)
        let answer = try await exchange.get(url: url, timeout: timeout, limit: limit)
        return try JSONExchange.ok(GatewayOfHealth.self, answer, url: url).gateway
    }

    /// `GET /v1/meters/{id}/readings` with `credential`: the answer's JSON as it came, once it
    /// decodes as a `MeterReadingsView`. `from` and `until` are as the route takes them (ms
    /// since the Unix epoch, or ISO 8601).
    package func meterReadings(
        ofMeter id: String,
        from: String? = nil,
        until: String? = nil,
        limit: Int? = nil,
        credential: ReadCredential,
        timeout: Duration,
        answerLimit: Int = 16 << 20
    ) async throws(GridAPIError) -> Data {
        let endpoint = GatewayRoutes.meterReadings
        var components = URLComponents(string: url(endpoint, ["id": id]))
        let query = [("from", from), ("until", until), ("limit", limit.map(String.init))]
            .compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        if !query.isEmpty { components?.queryItems = query }
        let url = components?.string ?? url(endpoint, ["id": id])
        return try await signedGet(endpoint, url: url, credential: credential, timeout: timeout, limit: answerLimit) {
            try JSONDecoder().decode(MeterReadingsView.self, from: $0)
        }
    }

    /// `GET /v1/readings/{meter}/{seq}/receipt` with `credential`: the receipt's JSON as it
    /// came (what `edge-gateway verify-receipt` checks), once it decodes as a `ReceiptView`.
    package func receipt(
        ofMeter id: String,
        sequence: UInt64,
        credential: ReadCredential,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Data {
        let endpoint = GatewayRoutes.receipt
        let url = url(endpoint, ["meter": id, "seq": String(sequence)])
        return try await signedGet(endpoint, url: url, credential: credential, timeout: timeout, limit: limit) {
            try JSONDecoder().decode(ReceiptView.self, from: $0)
        }
    }

    /// A GET of household data: `credential`'s headers, 200 and a body `check` decodes.
    private func signedGet<T>(
        _ endpoint: Endpoint,
        url: String,
        credential: ReadCredential,
        timeout: Duration,
        limit: Int,
        check: (Data) throws -> T
    ) async throws(GridAPIError) -> Data {
        let headers: [(String, String)]
        do { headers = try credential.headers(for: endpoint) } catch { throw .transport(url: url, error: error) }
        let answer = try await exchange.send(
            .get,
            url: url,
            jsonBytes: nil,
            headers: headers,
            timeout: timeout,
            limit: limit
        )
        guard answer.status == 200 else { throw JSONExchange.refusal(answer, url: url) }
        do { _ = try check(answer.body) } catch {
            throw .undecodable(status: answer.status, url: url, body: answer.body)
        }
        return answer.body
    }

    /// `POST /v1/offers`. Refusals and retries come in the same shape, so any status whose
    /// body is an `OfferResponse` is an answer.
    package func offer(
        _ submission: TradeSubmission,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Answer<OfferResponse> {
        let url = url(GatewayRoutes.offers)
        let answer = try await exchange.send(.post, url: url, json: submission, timeout: timeout, limit: limit)
        return try JSONExchange.any(OfferResponse.self, answer, url: url)
    }

    /// `POST /v1/requests`; as `offer`, any status whose body is a `DispatchResponse`.
    package func request(
        _ submission: TradeSubmission,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Answer<DispatchResponse> {
        let url = url(GatewayRoutes.requests)
        let answer = try await exchange.send(.post, url: url, json: submission, timeout: timeout, limit: limit)
        return try JSONExchange.any(DispatchResponse.self, answer, url: url)
    }

    // MARK: admin (operator)

    /// `POST /v1/admin/enroll` with the data directory's admin token.
    package func enroll(
        _ body: AdminKeyRequest,
        token: String,
        timeout: Duration = .seconds(30)
    ) async throws(GridAPIError) -> AdminResponse {
        try await admin(GatewayRoutes.enroll, body, token: token, timeout: timeout)
    }

    /// `POST /v1/admin/enrollments` with the data directory's admin token: at most
    /// `AdminEnrollmentsRequest.maxKeys` meters, enrolled all or none.
    package func enroll(
        many body: AdminEnrollmentsRequest,
        token: String,
        timeout: Duration = .seconds(120)
    ) async throws(GridAPIError) -> AdminEnrollmentsResponse {
        try await admin(GatewayRoutes.enrollments, body, token: token, timeout: timeout, limit: 2 << 20)
    }

    /// `POST /v1/admin/revoke` with the data directory's admin token.
    package func revoke(
        _ body: AdminKeyRequest,
        token: String,
        timeout: Duration = .seconds(30)
    ) async throws(GridAPIError) -> AdminResponse {
        try await admin(GatewayRoutes.revoke, body, token: token, timeout: timeout)
    }

    private func admin<Body: Encodable & Sendable, Answer: Decodable>(
        _ endpoint: Endpoint,
        _ body: Body,
        token: String,
        timeout: Duration,
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Answer {
        let url = url(endpoint)
        let answer = try await exchange.send(
            .post,
            url: url,
            json: body,
            headers: [("Authorization", "Bearer \(token)")],
            timeout: timeout,
            limit: limit
        )
        return try JSONExchange.ok(Answer.self, answer, url: url)
    }

    // MARK: super node

    /// A producer as an escalation sees it in a gateway's TNT table (`ProducerView`, read for
    /// these fields only, so that gateways whose table carries more still answer).
    package struct Producer: Decodable, Sendable, Hashable {
        package var meter: String
        package var active: Bool
        package var tnt: UInt64
        package var availableWh: UInt64
    }

    /// `GET /v1/tnt`, read for its producers: those an escalation may pick from.
    package func producers(
        timeout: Duration = .seconds(3),
        limit: Int = 8 << 20
    ) async throws(GridAPIError) -> [Producer] {
        struct Table: Decodable { var producers: [Producer] }
        let url = url(GatewayRoutes.tnt)
        let answer = try await exchange.get(url: url, timeout: timeout, limit: limit)
        return try JSONExchange.ok(Table.self, answer, url: url).producers
    }

    /// `POST /v1/escalated-dispatches`: commits and refusals come in the same shape.
    package func commitEscalatedDispatch(
        _ submission: EscalatedDispatchSubmission,
        timeout: Duration = .seconds(5),
        limit: Int = 1 << 20
    ) async throws(GridAPIError) -> Answer<EscalatedDispatchAnswer> {
        let url = url(GatewayRoutes.escalatedDispatches)
        let answer = try await exchange.send(.post, url: url, json: submission, timeout: timeout, limit: limit)
        return try JSONExchange.any(EscalatedDispatchAnswer.self, answer, url: url)
    }
}

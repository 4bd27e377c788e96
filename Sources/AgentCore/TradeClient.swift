import GridAPI
import LedgerLite

/// Offers and energy requests: one signed record posted, one decision back
/// (`POST /v1/offers` → `OfferResponse`, `POST /v1/requests` → `DispatchResponse`).
///
/// Any answer whose body decodes as the response type is returned as it is, whatever
/// its HTTP status (the gateway answers rejections and retries with the same shape);
/// the caller reads `status` and `reason`. Anything else is a `TradeError`.
package struct TradeClient: Sendable {
    package let http: GatewayClient
    package var timeout: Duration = .seconds(15)

    package func offer(_ record: SignedRecord, timeout: Duration? = nil) async throws(TradeError) -> OfferResponse {
        do throws(GridAPIError) {
            return try await http.offer(TradeSubmission(signed: record), timeout: timeout ?? self.timeout).body
        } catch {
            throw describe(error, path: GatewayRoutes.offers)
        }
    }

    package func request(_ record: SignedRecord, timeout: Duration? = nil) async throws(TradeError) -> DispatchResponse
    {
        do throws(GridAPIError) {
            return try await http.request(TradeSubmission(signed: record), timeout: timeout ?? self.timeout).body
        } catch {
            throw describe(error, path: GatewayRoutes.requests)
        }
    }

    private func describe(_ error: GridAPIError, path endpoint: Endpoint) -> TradeError {
        switch error {
        case .transport(_, let error):
            return .unreachable(gateway: http.base.absoluteString, error: TradeError.describe(error))
        case .status(429, _, _, _, _, let retryAfter):
            return .throttled(gateway: http.base.absoluteString, retryAfter: retryAfter)
        case .status(let status, _, _, _, let body, _), .undecodable(let status, _, let body):
            return .unexpectedAnswer(
                status: status,
                path: String(endpoint.template.dropFirst()),
                detail: TradeError.gist(of: body)
            )
        }
    }

    package init(http: GatewayClient, timeout: Duration = .seconds(15)) {
        self.http = http
        self.timeout = timeout
    }
}

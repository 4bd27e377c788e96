import Foundation
import GridAPI
import GridAPIServer
import Hummingbird
import LedgerLite

/// GET endpoints of energy trading (docs/GATEWAY.md): the TNT table, dispatches and
/// fairness. Read-only; `Gateway.router()` adds them.
extension Gateway {
    /// Dispatches name households; `access` decides who may read them.
    package func addTradeRoutes(to router: Router<BasicRequestContext>, access: HouseholdReadAccess) {
        router.on(GatewayRoutes.tnt) { _, _ in
            Self.json(TNTView(await self.writer.tntState()))
        }
        router.on(GatewayRoutes.dispatches) { request, _ in
            try access.authorize(request, endpoint: GatewayRoutes.dispatches, meter: nil)
            let params = request.uri.queryParameters
            guard let from = Self.unsigned(params.get("from"), default: 0) else {
                throw APIError(
                    .badRequest,
                    "from is an entry index: a non-negative integer (the `next` of the previous page)"
                )
            }
            guard let limit = Self.unsigned(params.get("limit"), default: 100), limit >= 1 else {
                throw APIError(.badRequest, "limit is how many dispatches to return: 1 to 1000")
            }
            let text = params.get("consumer")
            let consumer = text.flatMap(MeterID.init(hex:))
            if text != nil, consumer == nil { throw APIError(.badRequest, "consumer is a meter id: 32 hex digits") }
            let pending = await self.writer.pendingEntries()
            return try await self.query { q in
                try Self.json(
                    q.dispatches(from: from, limit: Int(min(limit, 1000)), consumer: consumer, pending: pending)
                )
            }
        }
        router.on(GatewayRoutes.fairness) { request, _ in
            let params = request.uri.queryParameters
            let from = Self.time(params.get("from"))
            let until = Self.time(params.get("until"))
            guard (from == nil) == (params.get("from") == nil), (until == nil) == (params.get("until") == nil) else {
                throw APIError(
                    .badRequest,
                    "from and until are times: milliseconds since the Unix epoch or ISO 8601 (2026-01-01T00:00:00Z)"
                )
            }
            if let from, let until, from >= until {
                throw APIError(.badRequest, "the window is empty: from (\(from)) must be before until (\(until))")
            }
            let window = try FairnessWindowRule.window(from: from, until: until, now: self.writer.clock())
            let pending = await self.writer.pendingEntries()
            let current = await self.writer.tntState()
            return try await self.query { q in
                try Self.json(q.fairness(from: window.from, until: window.until, current: current, pending: pending))
            }
        }
    }

    /// A non-negative integer query parameter; `default` when absent, nil when malformed.
    package static func unsigned(_ text: String?, default value: UInt64) -> UInt64? {
        guard let text else { return value }
        return UInt64(text)
    }
}

import GridAPI
import Hummingbird
import LedgerLite
import OperatorKit

/// `GET /v1/export`: the settlement export (docs/GATEWAY.md, "Settlement export"), the same
/// document `edge-gateway export csv|json` writes. Household data: `access` decides who may
/// read it; a meter may read its own (`meter=` its id, the request signed with its key).
extension Gateway {
    package func addSettlementRoute(to router: Router<BasicRequestContext>, access: HouseholdReadAccess) {
        router.on(GatewayRoutes.export) { request, _ in
            let params = request.uri.queryParameters
            let query = try Self.settlementQuery(
                from: params.get("from"),
                until: params.get("until"),
                period: params.get("period"),
                format: params.get("format"),
                meters: params.getAll("meter")
            )
            let own = query.meters.count == 1 ? MeterID(hex: query.meters[0]) : nil
            try access.authorize(request, endpoint: GatewayRoutes.export, meter: own)
            return try await self.query { queries in
                var body = ""
                do {
                    try SettlementExport(queries: queries).write(
                        query.window,
                        format: query.format,
                        meters: query.meters,
                        rowLimit: SettlementExport.requestRowLimit
                    ) { body += $0 }
                } catch let error as SettlementError {
                    switch error {
                    case .noData, .unknownMeter: throw APIError(.notFound, error.description)
                    default: throw APIError(.badRequest, error.description)
                    }
                }
                var headers = HTTPFields()
                headers[.contentType] = query.format.contentType
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
            }
        }
    }

    /// The export's parameters, checked; a 400 that says what to send otherwise.
    static func settlementQuery(
        from: String?,
        until: String?,
        period: String?,
        format: String?,
        meters: [String]
    ) throws -> (window: SettlementWindow, format: SettlementDocument.Format, meters: [String]) {
        let times =
            "from and until are required: milliseconds since the Unix epoch or ISO 8601 (2026-01-01T00:00:00Z), on period boundaries (UTC)"
        guard let from = from.flatMap(SettlementWindow.parseTime), let until = until.flatMap(SettlementWindow.parseTime)
        else { throw APIError(.badRequest, times) }
        var periodMs = SettlementWindow.defaultPeriodMs
        if let period {
            guard let duration = DurationArgument(argument: period) else {
                throw APIError(.badRequest, "period is a duration such as 15m, 30m, 1h or 1d, not '\(period)'")
            }
            periodMs = Int64(duration.duration.milliseconds)
        }
        guard let format = SettlementDocument.Format(rawValue: format ?? "json") else {
            throw APIError(.badRequest, "format is csv or json, not '\(format ?? "")'")
        }
        for meter in meters where MeterID(hex: meter) == nil {
            throw APIError(.badRequest, "meter is a meter id: 32 hex digits, not '\(meter)'")
        }
        do {
            return (try SettlementWindow(from: from, until: until, periodMs: periodMs), format, meters)
        } catch {
            throw APIError(.badRequest, error.description)
        }
    }
}

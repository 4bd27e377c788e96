/// Every route of the edge gateway (`edge-gateway serve`), as `Gateway.router()` registers
/// them and docs/openapi/gateway.yaml describes them.
package enum GatewayRoutes {
    /// The live dashboard: one HTML page with its CSS and script.
    package static let dashboard = Endpoint(.get, "/")
    package static let health = Endpoint(.get, "/healthz")
    package static let metrics = Endpoint(.get, "/metrics")
    package static let readings = Endpoint(.post, "/v1/readings", maxBodyBytes: BodyLimit.ingestBatch)
    package static let offers = Endpoint(.post, "/v1/offers", maxBodyBytes: BodyLimit.singleRecord)
    package static let requests = Endpoint(.post, "/v1/requests", maxBodyBytes: BodyLimit.singleRecord)
    package static let enroll = Endpoint(.post, "/v1/admin/enroll", maxBodyBytes: BodyLimit.singleRecord)
    package static let enrollments = Endpoint(
        .post,
        "/v1/admin/enrollments",
        maxBodyBytes: BodyLimit.enrollments
    )
    package static let revoke = Endpoint(.post, "/v1/admin/revoke", maxBodyBytes: BodyLimit.singleRecord)
    package static let blocks = Endpoint(.get, "/v1/blocks")
    package static let block = Endpoint(.get, "/v1/blocks/{height}")
    package static let meters = Endpoint(.get, "/v1/meters")
    package static let meter = Endpoint(.get, "/v1/meters/{id}")
    package static let meterReadings = Endpoint(.get, "/v1/meters/{id}/readings")
    package static let receipt = Endpoint(.get, "/v1/readings/{meter}/{seq}/receipt")
    package static let uplink = Endpoint(.get, "/v1/uplink")
    package static let anomalies = Endpoint(.get, "/v1/anomalies")
    package static let tnt = Endpoint(.get, "/v1/tnt")
    package static let dispatches = Endpoint(.get, "/v1/dispatches")
    package static let fairness = Endpoint(.get, "/v1/fairness")
    package static let export = Endpoint(.get, "/v1/export")
    /// Server-sent events: each block as it is stored, the uplink's checkpoints, heartbeats.
    package static let events = Endpoint(.get, "/v1/events", eventStream: true)
    package static let escalatedDispatches = Endpoint(
        .post,
        "/v1/escalated-dispatches",
        maxBodyBytes: BodyLimit.singleRecord
    )

    package static let all: [Endpoint] = [
        health, metrics, readings, offers, requests, enroll, enrollments, revoke, blocks, block, meters, meter,
        meterReadings,
        receipt, uplink, anomalies, tnt, dispatches, fairness, export, escalatedDispatches, dashboard, events,
    ]
}

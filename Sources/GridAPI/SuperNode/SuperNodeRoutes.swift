/// Every route of the super node (`super-node serve`), as `SuperNode.router()` registers
/// them and docs/openapi/super-node.yaml describes them.
package enum SuperNodeRoutes {
    /// The live dashboard: one HTML page with its CSS and script.
    package static let dashboard = Endpoint(.get, "/")
    package static let health = Endpoint(.get, "/healthz")
    package static let root = Endpoint(.get, "/v1/root")
    package static let blocks = Endpoint(.post, "/v1/blocks", maxBodyBytes: BodyLimit.push)
    package static let escalations = Endpoint(.post, "/v1/escalations", maxBodyBytes: BodyLimit.escalation)
    package static let gateways = Endpoint(.get, "/v1/gateways")
    package static let flags = Endpoint(.get, "/v1/flags")
    package static let checkpoint = Endpoint(.get, "/v1/checkpoints/{gateway}/{height}")
    /// The checkpoint log's C2SP checkpoint (a signed note).
    package static let logCheckpoint = Endpoint(.get, "/checkpoint")
    /// The checkpoint log's C2SP tiles and entry bundles: `/tile/<L>/<N>[.p/<W>]`,
    /// `/tile/entries/<N>[.p/<W>]`.
    package static let logTile = Endpoint(.get, "/tile/{path}", restOfPath: true)

    /// Server-sent events: each push and escalation as it is answered, heartbeats.
    package static let events = Endpoint(.get, "/v1/events", eventStream: true)

    package static let all: [Endpoint] = [
        health, root, blocks, escalations, gateways, flags, checkpoint, logCheckpoint, logTile, dashboard, events,
    ]
}

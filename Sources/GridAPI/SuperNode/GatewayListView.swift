/// `GET /v1/gateways` answer.
package struct GatewayListView: Codable, Sendable {
    package var gateways: [GatewayView]

    package init(
        gateways: [GatewayView]
    ) {
        self.gateways = gateways
    }
}

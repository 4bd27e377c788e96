/// `GET /v1/meters`: every meter ever enrolled, by id.
package struct MeterListView: Codable, Sendable {
    package var meters: [MeterView]

    package init(meters: [MeterView]) {
        self.meters = meters
    }
}

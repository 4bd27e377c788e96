/// The first event of a server's `GET /v1/events` stream (`event: hello`): what the stream
/// will carry, so a page knows what to ask for and what to wait for.
package struct EventStreamHello: Codable, Sendable, Equatable {
    /// Seconds between heartbeat comments (`: heartbeat`) while nothing else is sent.
    package var heartbeatSeconds: Int
    /// The gateway's stream: true when its events carry household data (readings, anomalies),
    /// false when the gateway listens beyond loopback and the request carried no operator
    /// token. Absent on the super node's stream, which carries none.
    package var householdData: Bool?

    package init(heartbeatSeconds: Int, householdData: Bool? = nil) {
        self.heartbeatSeconds = heartbeatSeconds
        self.householdData = householdData
    }
}

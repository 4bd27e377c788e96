package enum AgentDefaults {
    /// About 150 MB of readings: days of a large fleet's output during an outage.
    package static let outboxLimit = 1_000_000
    package static let interval: Duration = .seconds(5)
    package static let minimumInterval: Duration = .milliseconds(100)
    /// `--auto-offer`: time between offers, and how long each offer stands.
    package static let offerInterval: Duration = .seconds(60)
    package static let minimumOfferInterval: Duration = .seconds(1)
    package static let offerValidity: Duration = .seconds(15 * 60)
}

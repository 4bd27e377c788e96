import AsyncHTTPClient

extension HTTPClient.Configuration {
    /// How long a client keeps an idle pooled connection: less than the servers' 30 s idle
    /// timeout (`ServerLimits`), so a client never sends on a connection the server is closing.
    package static let pooledIdleTimeout: Duration = .seconds(20)

    /// The typed clients' configuration: these timeouts, and idle pooled connections closed
    /// after `pooledIdleTimeout`.
    package static func gridLedger(connect: Duration, read: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .milliseconds(connect.exchangeMilliseconds),
            read: .milliseconds(read.exchangeMilliseconds)
        )
        configuration.connectionPool = .init(idleTimeout: .milliseconds(pooledIdleTimeout.exchangeMilliseconds))
        return configuration
    }
}

extension HTTPClient {
    /// A process-wide client with `HTTPClient.Configuration.gridLedger` (connect 2 s, read
    /// 15 s; callers pass shorter deadlines per request): the typed clients' default.
    package static let gridLedger = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .gridLedger(connect: .seconds(2), read: .seconds(15))
    )
}

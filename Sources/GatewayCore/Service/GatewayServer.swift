import GridAPIServer
import GridTLS
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import OperatorKit
import ServiceLifecycle

extension Gateway {
    /// The uplink (with a super node), the sealing service and the HTTP server over `router()`
    /// in one group: what `edge-gateway serve` runs, and what tests and benchmarks run in-process.
    /// The server publishes its URL in `DIR/gateway.url` once bound (port 0 picks a free one).
    /// Services stop in reverse order: the server drains, then the sealer seals what is
    /// pending (and waits until it is archived), then the uplink stops its loop and makes one
    /// final push, bounded by `UplinkConfig.finalPushTimeout`, so a clean stop leaves the super
    /// node audited up to the final block whenever it is reachable.
    /// Plain HTTP: the admin routes answer loopback peers only.
    /// - Parameters:
    ///   - listen: the address to bind.
    ///   - sealTick: how often the sealing service asks the writer to seal by time.
    ///   - handleSignals: stop gracefully on SIGTERM and SIGINT (the command); without it the
    ///     caller stops the group with `triggerGracefulShutdown()` or by cancelling its task.
    ///   - limits: the server's timeouts and connection cap.
    ///   - onBound: called with the listen URL once the port is bound, for a caller in the same
    ///     process that needs the port `0` picked.
    package func makeServiceGroup(
        listen: ListenAddress,
        sealTick: Duration,
        handleSignals: Bool,
        limits: ServerLimits = ServerLimits(),
        onBound: (@Sendable (String) -> Void)? = nil
    ) -> ServiceGroup {
        makeGroup(
            listen: listen,
            sealTick: sealTick,
            handleSignals: handleSignals,
            limits: limits,
            tls: nil,
            onBound: onBound
        )
    }

    /// The same group speaking HTTPS with `tls` (its fingerprint is published beside the URL,
    /// in `DIR/gateway.url.fingerprint`); admin calls are accepted from any peer, with the token.
    package func makeServiceGroup(
        listen: ListenAddress,
        sealTick: Duration,
        handleSignals: Bool,
        limits: ServerLimits = ServerLimits(),
        tls: TLSIdentity,
        onBound: (@Sendable (String) -> Void)? = nil
    ) throws -> ServiceGroup {
        let server = try HTTPServerBuilder.tls(limits.http1, tlsConfiguration: tls.serverConfiguration())
        return makeGroup(
            listen: listen,
            sealTick: sealTick,
            handleSignals: handleSignals,
            limits: limits,
            tls: (server, tls.fingerprint),
            onBound: onBound
        )
    }

    private func makeGroup(
        listen: ListenAddress,
        sealTick: Duration,
        handleSignals: Bool,
        limits: ServerLimits,
        tls: (server: HTTPServerBuilder, fingerprint: CertificateFingerprint)?,
        onBound: (@Sendable (String) -> Void)?
    ) -> ServiceGroup {
        let directory = self.directory
        let logger = self.logger
        let uplink = self.uplink
        let configuration = limits.configuration(address: .hostname(listen.host, port: listen.port), logger: logger)
        let fingerprint = tls?.fingerprint.description
        let onServerRunning: @Sendable (any Channel) async -> Void = { channel in
            let url = directory.urlFile.publish(
                listen: listen,
                boundPort: channel.localAddress?.port,
                fingerprint: fingerprint,
                logger: logger
            )
            uplink?.serverBound(url: url)
            onBound?(url)
        }
        let limiter = limits.makeWriteRateLimiter()
        let app: any Service
        if let tls {
            app = Application(
                responder: rateLimited(
                    PeerContextAdapter(
                        inner: router(restrictHouseholdData: !listen.isLoopback, eventStreams: limits.eventStreams)
                            .buildResponder()
                    ),
                    limiter
                ),
                server: tls.server,
                configuration: configuration,
                onServerRunning: onServerRunning,
                logger: logger
            )
        } else {
            app = Application(
                responder: rateLimited(
                    LoopbackAdminResponder(
                        inner: router(restrictHouseholdData: !listen.isLoopback, eventStreams: limits.eventStreams)
                            .buildResponder()
                    ),
                    limiter
                ),
                server: limits.http1,
                configuration: configuration,
                onServerRunning: onServerRunning,
                logger: logger
            )
        }
        var services: [any Service] = []
        if let uplink { services.append(uplink) }
        services += [SealService(writer: writer, tick: sealTick), app]
        return ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger
            )
        )
    }

    /// `inner` behind the per-source write limit (`--write-rate`): refusals are 429 with
    /// Retry-After, counted in `gateway_writes_throttled_total` and logged at most every 30 s.
    private func rateLimited<Inner: HTTPResponder>(
        _ inner: Inner,
        _ limiter: WriteRateLimiter?
    ) -> WriteRateLimitResponder<Inner> {
        let metrics = self.metrics
        let log = RateLimitedLog(logger: logger, interval: .seconds(30))
        return WriteRateLimitResponder(
            inner: inner,
            limiter: limiter,
            refusal: { seconds in
                APIError(
                    .tooManyRequests,
                    "this address sent more write requests than the gateway accepts from one source (\(Int(limiter?.rate.perSecond ?? 0)) a second, --write-rate); retry after \(seconds) s",
                    retryAfterSeconds: seconds
                )
            },
            onThrottled: { source in
                metrics.writesThrottled.increment()
                log.log(
                    .warning,
                    key: "write-rate",
                    "refusing write requests over --write-rate (429)",
                    metadata: ["source": "\(source)"]
                )
            }
        )
    }

    /// Runs a group from `makeServiceGroup` until it stops, turning bind failures into one
    /// clear line, and removes `DIR/gateway.url` on the way out. It does not close the
    /// gateway: call `shutdown()` afterwards.
    package func run(_ group: ServiceGroup, listen: ListenAddress) async throws {
        defer { directory.urlFile.remove() }
        do {
            try await group.run()
        } catch {
            throw listen.serveFailure(error)
        }
    }
}

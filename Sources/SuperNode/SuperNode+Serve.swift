import GridAPIServer
import GridTLS
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOCore
import OperatorKit
import ServiceLifecycle
import SuperNodeCore

extension SuperNode {
    /// Serves HTTP (HTTPS with `tls`) until SIGTERM/SIGINT; writes DIR/super-node.url once the
    /// port is bound and removes it on the way out.
    /// - Parameter gatewayPins: the gateways' pinned TLS certificates; with `tls`, a gateway
    ///   among them must present its own to push or escalate (`MutualTLSResponder`).
    func serve(
        directory: SuperDirectory,
        listen: ListenAddress,
        limits: ServerLimits,
        tls: TLSIdentity?,
        gatewayPins: GatewayTLSPins.Loaded,
        handleSignals: Bool
    ) async throws {
        let group =
            if let tls {
                try makeServiceGroup(
                    directory: directory,
                    listen: listen,
                    limits: limits,
                    tls: tls,
                    gatewayPins: gatewayPins,
                    handleSignals: handleSignals
                )
            } else {
                makeServiceGroup(directory: directory, listen: listen, limits: limits, handleSignals: handleSignals)
            }
        try await run(group, directory: directory, listen: listen)
    }

    /// The HTTP server as a service group (tests stop it with `triggerGracefulShutdown`).
    func makeServiceGroup(
        directory: SuperDirectory,
        listen: ListenAddress,
        limits: ServerLimits = ServerLimits(),
        handleSignals: Bool
    ) -> ServiceGroup {
        let logger = self.logger
        let app = Application(
            responder: rateLimited(
                PeerContextAdapter(inner: router(eventStreams: limits.eventStreams).buildResponder()),
                limits
            ),
            server: limits.http1,
            configuration: limits.configuration(address: .hostname(listen.host, port: listen.port), logger: logger),
            onServerRunning: { channel in
                directory.urlFile.publish(listen: listen, boundPort: channel.localAddress?.port, logger: logger)
            },
            logger: logger
        )
        return group(app, handleSignals: handleSignals)
    }

    /// The HTTPS server as a service group; the fingerprint of `tls` is written to
    /// DIR/super-node.url.fingerprint beside the URL. With pinned gateway certificates, a client
    /// may present one of them (any other is refused in the handshake), and a gateway among
    /// them must, to push or escalate.
    func makeServiceGroup(
        directory: SuperDirectory,
        listen: ListenAddress,
        limits: ServerLimits = ServerLimits(),
        tls: TLSIdentity,
        gatewayPins: GatewayTLSPins.Loaded,
        handleSignals: Bool
    ) throws -> ServiceGroup {
        let logger = self.logger
        let fingerprint = tls.fingerprint.description
        var configuration = tls.serverConfiguration()
        if !gatewayPins.certificates.isEmpty {
            configuration.certificateVerification = .optionalVerification
            configuration.trustRoots = .certificates(gatewayPins.certificates)
        }
        let server = try HTTPServerBuilder.tls(limits.http1, tlsConfiguration: configuration)
        let address = limits.configuration(address: .hostname(listen.host, port: listen.port), logger: logger)
        let onServerRunning: @Sendable (any Channel) async -> Void = { channel in
            directory.urlFile.publish(
                listen: listen,
                boundPort: channel.localAddress?.port,
                fingerprint: fingerprint,
                logger: logger
            )
        }
        let app: any Service
        if gatewayPins.gateways.isEmpty {
            app = Application(
                responder: rateLimited(
                    PeerContextAdapter(inner: router(eventStreams: limits.eventStreams).buildResponder()),
                    limits
                ),
                server: server,
                configuration: address,
                onServerRunning: onServerRunning,
                logger: logger
            )
        } else {
            app = Application(
                responder: rateLimited(
                    MutualTLSResponder(
                        inner: router(eventStreams: limits.eventStreams).buildResponder(),
                        pins: gatewayPins.gateways
                    ),
                    limits
                ),
                server: server,
                configuration: address,
                onServerRunning: onServerRunning,
                logger: logger
            )
        }
        return group(app, handleSignals: handleSignals)
    }

    /// `inner` behind the per-source write limit of `limits` (`--write-rate`): refusals are
    /// `rate-limited` (429) with Retry-After, logged at most every 30 s.
    private func rateLimited<Inner: HTTPResponder>(
        _ inner: Inner,
        _ limits: ServerLimits
    ) -> WriteRateLimitResponder<Inner> {
        let limiter = limits.makeWriteRateLimiter()
        let log = RateLimitedLog(logger: logger, interval: .seconds(30))
        return WriteRateLimitResponder(
            inner: inner,
            limiter: limiter,
            refusal: { seconds in
                Rejection(
                    reason: .rateLimited,
                    message:
                        "this address sent more write requests than the super node accepts from one source (\(Int(limiter?.rate.perSecond ?? 0)) a second, --write-rate); retry after \(seconds) s",
                    retryAfterSeconds: seconds
                )
            },
            onThrottled: { source in
                log.log(
                    .warning,
                    key: "write-rate",
                    "refusing write requests over --write-rate (429)",
                    metadata: ["source": "\(source)"]
                )
            }
        )
    }

    private func group(_ app: any Service, handleSignals: Bool) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [app],
                gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
                logger: logger
            )
        )
    }

    /// Runs a group from `makeServiceGroup`, turning bind failures into one clear line.
    func run(_ group: ServiceGroup, directory: SuperDirectory, listen: ListenAddress) async throws {
        defer { directory.urlFile.remove() }
        do {
            try await group.run()
        } catch {
            throw listen.serveFailure(error)
        }
    }
}

import GridTLS
import Hummingbird
import HummingbirdTLS
import OperatorKit
import ServiceLifecycle
import SuperNodeCore

extension SuperNode {
    /// Serves HTTP (HTTPS with `tls`) until SIGTERM/SIGINT; writes DIR/super-node.url once the
    /// port is bound and removes it on the way out.
    func serve(directory: SuperDirectory, listen: ListenAddress, tls: TLSIdentity?, handleSignals: Bool) async throws {
        let group =
            if let tls {
                try makeServiceGroup(directory: directory, listen: listen, tls: tls, handleSignals: handleSignals)
            } else {
                makeServiceGroup(directory: directory, listen: listen, handleSignals: handleSignals)
            }
        try await run(group, directory: directory, listen: listen)
    }

    /// The HTTP server as a service group (tests stop it with `triggerGracefulShutdown`).
    func makeServiceGroup(directory: SuperDirectory, listen: ListenAddress, handleSignals: Bool) -> ServiceGroup {
        let logger = self.logger
        let app = Application(
            router: router(),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                directory.urlFile.publish(listen: listen, boundPort: channel.localAddress?.port, logger: logger)
            },
            logger: logger
        )
        return group(app, handleSignals: handleSignals)
    }

    /// The HTTPS server as a service group; the fingerprint of `tls` is written to
    /// DIR/super-node.url.fingerprint beside the URL.
    func makeServiceGroup(
        directory: SuperDirectory,
        listen: ListenAddress,
        tls: TLSIdentity,
        handleSignals: Bool
    ) throws -> ServiceGroup {
        let logger = self.logger
        let fingerprint = tls.fingerprint.description
        let app = Application(
            router: router(),
            server: try .tls(.http1(), tlsConfiguration: tls.serverConfiguration()),
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                directory.urlFile.publish(
                    listen: listen,
                    boundPort: channel.localAddress?.port,
                    fingerprint: fingerprint,
                    logger: logger
                )
            },
            logger: logger
        )
        return group(app, handleSignals: handleSignals)
    }

    private func group(_ app: some Service, handleSignals: Bool) -> ServiceGroup {
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

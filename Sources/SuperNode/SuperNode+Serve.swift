import Hummingbird
import OperatorKit
import ServiceLifecycle
import SuperNodeCore

extension SuperNode {
    /// Serves HTTP until SIGTERM/SIGINT; writes DIR/super-node.url once the port is bound and
    /// removes it on the way out.
    func serve(directory: SuperDirectory, listen: ListenAddress, handleSignals: Bool) async throws {
        try await run(
            makeServiceGroup(directory: directory, listen: listen, handleSignals: handleSignals),
            directory: directory,
            listen: listen
        )
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
        return ServiceGroup(
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

import ArgumentParser
import Foundation
import Hummingbird
import LedgerLite
import LedgerStore
import Logging
import OperatorKit
import ServiceLifecycle
import SuperNodeCore

@main
struct SuperNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "super-node",
        abstract:
            "GridLedger super node: certify edge gateways, audit the blocks they push, countersign checkpoints, flag unmeasured energy, and dispatch across gateways.",
        discussion: "Operations guide: docs/SUPERNODE.md.",
        subcommands: [
            InitCommand.self, CertifyCommand.self, RevokeCommand.self, ReinstateCommand.self, ServeCommand.self,
        ]
    )
}

struct DataOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The super node's data directory.", valueName: "dir"))
    var data: String

    var directory: SuperDirectory { SuperDirectory(data) }
}

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Create a data directory: the root key pair (root.key, mode 0600, and root.key.pub) and an empty authority store.",
        discussion:
            "Refuses a directory that is already initialised: a new root key would invalidate every certificate issued."
    )

    @OptionGroup var data: DataOption

    func run() async throws {
        let dir = data.directory
        let key = try dir.initialise()
        print("initialised \(dir.path)")
        print("root id      \(key.id.hex)")
        print("public key   \(dir.publicKeyPath) (give it to whoever checks certificates and checkpoints)")
        print("store        \(dir.storePath)")
        print("next: super-node certify --data \(dir.path) --gateway-key GATEWAY/gateway.key.pub --name NAME")
    }
}

struct CertifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify",
        abstract: "Issue a certificate for a gateway's public key, record it, and print its serial.",
        discussion:
            "The certificate file goes to --out (default: NAME.cert in the current directory, refused if it exists). A gateway that already holds an unrevoked certificate is refused."
    )

    @OptionGroup var data: DataOption

    @Option(
        name: .customLong("gateway-key"),
        help: ArgumentHelp(
            "The gateway's public key file (DIR/gateway.key.pub of `edge-gateway init`).",
            valueName: "file.pub"
        )
    )
    var gatewayKey: String

    @Option(
        help: ArgumentHelp(
            "A name for the gateway (1 to 128 bytes of UTF-8, no control characters).",
            valueName: "name"
        )
    )
    var name: String

    @Option(help: ArgumentHelp("Where to write the certificate file.", valueName: "file"))
    var out: String?

    func validate() throws {
        do {
            try GatewayCertificate.checkName(Array(name.utf8))
        } catch {
            throw ValidationError(
                "--name '\(name)' is not acceptable: \(error) (use 1 to \(GatewayCertificate.maxNameBytes) bytes of UTF-8 without control characters)"
            )
        }
    }

    var outputPath: String {
        out ?? (name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? String($0) : "-" }.joined() + ".cert")
    }

    func run() async throws {
        let dir = data.directory
        let root = try dir.loadKey()
        let key: PublicIdentity
        do { key = try KeyFile.readPublicKey(from: gatewayKey) } catch { throw OperatorError(error.description) }
        let path = outputPath
        guard !FileManager.default.fileExists(atPath: path) else {
            throw OperatorError("\(path) already exists; refusing to overwrite it (choose another --out)")
        }
        let store = try dir.openStore()
        let signed = try Authority.certify(store: store, root: root, gatewayKey: key, name: name, now: Timestamps.now())
        guard FileManager.default.createFile(atPath: path, contents: Data(signed.fileText.utf8)) else {
            throw OperatorError(
                "certificate serial \(signed.certificate.serial) is recorded, but \(path) could not be written; check the directory is writable, then revoke serial \(signed.certificate.serial) and certify again"
            )
        }
        print("certified gateway \(key.id.hex) (\"\(name)\") serial \(signed.certificate.serial)")
        print("certificate  \(path)")
    }
}

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a gateway's certificates (--gateway) or one certificate (--serial).",
        discussion:
            "Takes effect at once, also for a running `serve` on the same directory: the next push with a revoked certificate is refused (revoked-certificate)."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("A gateway id (32 hex digits): revoke all its certificates.", valueName: "id"))
    var gateway: String?

    @Option(help: ArgumentHelp("A certificate serial: revoke that certificate.", valueName: "n"))
    var serial: UInt64?

    func validate() throws {
        guard (gateway == nil) != (serial == nil) else {
            throw ValidationError("name what to revoke with exactly one of --gateway ID or --serial N")
        }
        if let gateway, GatewayID(hex: gateway) == nil {
            throw ValidationError("--gateway must be a gateway id of 32 hex digits")
        }
    }

    func run() async throws {
        let store = try data.directory.openStore()
        let target: Authority.Target = serial.map { .serial($0) } ?? .gateway(GatewayID(hex: gateway!)!)
        for row in try Authority.revoke(store: store, target, now: Timestamps.now()) {
            print(
                "revoked certificate serial \(row.certificate.serial) of gateway \(row.certificate.gateway.hex) (\"\(row.certificate.name)\")"
            )
        }
    }
}

struct ReinstateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinstate",
        abstract: "Lift a gateway's suspension by the value verification and reset its flag count.",
        discussion:
            "A gateway is suspended when --suspend-after of its blocks were value-flagged (energy dispatched beyond its producers' metered export). Reinstating lets its pushes in again; its flags stay on record (GET /v1/flags) and count anew from its next block. Takes effect at once, also for a running `serve` on the same directory. Refused for an unknown gateway or one that is not suspended."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("The suspended gateway's id (32 hex digits).", valueName: "id"))
    var gateway: String

    @Option(
        help: ArgumentHelp(
            "Why it is reinstated, kept with the reinstatement (one line, at most 1024 bytes).",
            valueName: "text"
        )
    )
    var note: String?

    func validate() throws {
        if GatewayID(hex: gateway) == nil { throw ValidationError("--gateway must be a gateway id of 32 hex digits") }
        if let note {
            do { try Authority.checkNote(note) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let store = try data.directory.openStore()
        let done = try Authority.reinstate(
            store: store,
            gateway: GatewayID(hex: gateway)!,
            note: note,
            now: Timestamps.now()
        )
        let s = done.suspension
        print(
            "reinstated gateway \(s.gateway.hex) (\"\(done.certificate.name)\"): suspended since \(Timestamps.iso(s.suspendedAt)) after \(s.flagCount) value-flagged blocks (the last at height \(s.height))"
        )
        print(
            "its pushes are accepted again; flagged blocks count anew above height \(s.reinstatedHeight ?? s.height) (\(done.flagsOnRecord) flags stay on record: GET /v1/flags?gateway=\(s.gateway.hex))"
        )
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the super node: block intake and audit, value verification, checkpoints, gateway list.",
        discussion:
            "Writes the listen URL to DIR/super-node.url once bound (use --listen 127.0.0.1:0 for any free port). SIGTERM or SIGINT stops it cleanly (exit 0). Value verification: after each audited block, a producer whose dispatched energy exceeds its metered export plus --value-tolerance-wh is flagged; --suspend-after flagged blocks suspend the gateway until `super-node reinstate`."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("Address to listen on, host:port (port 0 picks a free port).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8090"

    @Option(
        name: .customLong("value-tolerance-wh"),
        help: ArgumentHelp(
            "Value verification: Wh a producer may be dispatched beyond its metered export before its block is flagged (the gateway's own --offer-tolerance-wh does not count).",
            valueName: "wh"
        )
    )
    var valueToleranceWh: UInt64 = 0

    @Option(
        name: .customLong("suspend-after"),
        help: ArgumentHelp(
            "Value verification: suspend a gateway once this many of its blocks (at least 1) were flagged since its last reinstatement; `super-node reinstate` lifts it.",
            valueName: "n"
        )
    )
    var suspendAfter: Int = 3

    @OptionGroup var logging: LoggingOptions

    var valuePolicy: ValuePolicy { ValuePolicy(toleranceWh: valueToleranceWh, suspendAfter: suspendAfter) }

    func validate() throws {
        guard ListenAddress(argument: listen) != nil else {
            throw ValidationError(
                "--listen '\(listen)' is not host:port (for example 127.0.0.1:8090, 0.0.0.0:8090 or [::1]:8090; port 0 picks a free one)"
            )
        }
        guard suspendAfter >= 1 else {
            throw ValidationError(
                "--suspend-after must be at least 1 (the number of flagged blocks that suspends a gateway); got \(suspendAfter)"
            )
        }
    }

    func run() async throws {
        let dir = data.directory
        try dir.requireInitialised()
        guard let lock = try DirectoryLock(path: dir.lockPath) else {
            throw OperatorError(
                "another super-node is serving \(dir.path) (it holds \(dir.lockPath)); stop it first, or use another --data directory"
            )
        }
        defer { withExtendedLifetime(lock) {} }
        let logger = try logging.bootstrap(label: "super-node")
        let node: SuperNode
        do { node = try await SuperNode.open(directory: dir, logger: logger, value: valuePolicy) } catch let error
            as OperatorError
        { throw error } catch {
            throw OperatorError("cannot open \(dir.path): \(error)")
        }
        logger.notice(
            "super node ready",
            metadata: [
                "root.id": "\(node.root.id.hex)", "gateways.audited": "\(node.auditedTips().count)",
                "value.tolerance.wh": "\(valuePolicy.toleranceWh)", "suspend.after": "\(valuePolicy.suspendAfter)",
            ]
        )
        try await node.serve(directory: dir, listen: ListenAddress(argument: listen)!, handleSignals: true)
        logger.notice("stopped cleanly")
    }
}

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

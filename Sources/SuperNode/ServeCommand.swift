import ArgumentParser
import Foundation
import GridAPI
import GridAPIServer
import GridTLS
import OperatorKit
import SuperNodeCore

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the super node: block intake and audit, value verification, checkpoints, gateway list.",
        discussion:
            "Writes the listen URL to DIR/super-node.url once bound (use --listen 127.0.0.1:0 for any free port). TLS: --tls serves HTTPS with the certificate `init` made (DIR/tls.crt; its fingerprint is written to DIR/super-node.url.fingerprint while serving), --tls-cert/--tls-key with the operator's; plain HTTP is the default on loopback only, and another --listen address needs --tls or --allow-plain-http (logged as a warning). SIGTERM or SIGINT stops it cleanly (exit 0). Value verification: after each audited block, a producer whose dispatched energy exceeds its metered export plus --value-tolerance-wh is flagged; --suspend-after flagged blocks suspend the gateway until `super-node reinstate`."
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

    @OptionGroup(title: "TLS") var tls: ServerTLSOptions

    @OptionGroup(title: "Connections") var connections: ServerLimitOptions

    @Option(
        name: .customLong("gateway-ca"),
        help: ArgumentHelp(
            "Trust https:// gateways (escalated dispatches are sent to them) by the CA certificates in this PEM file: the CA that issued their certificates, or their own tls.crt files concatenated. Without it, the system's CAs.",
            valueName: "file.pem"
        )
    )
    var gatewayCA: String?

    @Option(
        name: .customLong("log-origin"),
        help: ArgumentHelp(
            "The origin of the checkpoint log served at /checkpoint and /tile/… (C2SP tlog-tiles), also its note key's name: by convention the public URL of the log without its scheme, e.g. HOST/super-node. Default: gridledger-super-node/<root key id>. Choose it once: witnesses follow a log by its origin.",
            valueName: "name"
        )
    )
    var logOrigin: String?

    @Option(
        name: .customLong("snapshot-entries"),
        help: ArgumentHelp(
            "Store each gateway's audit snapshot (its chain's tip, Merkle frontier and rules state) with the block that brings it this many entries (at least 1; never more often than the gateway's meter count) past the last one: a gateway's audit is restored from it, auditing again only the blocks after it.",
            valueName: "n"
        )
    )
    var snapshotEntries: UInt64 = SuperNode.defaultSnapshotEntries

    @Option(
        name: .customLong("resident-audits"),
        help: ArgumentHelp(
            "Hold at most this many gateways' audits (each its chain's rules state: meters, producers, pending requests) in memory (at least 1); the least recently used is dropped and restored from its audit snapshot when its gateway pushes again. Start-up restores none: it only checks each gateway's snapshot against its block.",
            valueName: "n"
        )
    )
    var residentAudits: Int = ResidentAudits.defaultCapacity

    @Option(
        name: .customLong("fence-after"),
        help: ArgumentHelp(
            "With --store postgres://…: the most seconds (at least 1) a transaction of this replica may wait for it before the server ends the transaction and releases its locks, so that a replica that stops answering (paused, hung) holds no gateway up for longer; other replicas take its work once it has passed (docs/SCALING.md).",
            valueName: "seconds"
        )
    )
    var fenceAfter: Int = Int(PostgresEngine.defaultFenceAfter.components.seconds)

    @OptionGroup var logging: LoggingOptions

    /// How escalated dispatches recognise an https:// gateway: `--gateway-ca`, else the
    /// gateways' certificates pinned at `certify`, else the system's CAs.
    func gatewayClientTLS(pinned: GatewayTLSPins.Loaded) throws -> ClientTLS {
        guard let gatewayCA else {
            guard !pinned.certificates.isEmpty else { return .system }
            return .trusting(pinned.certificates, source: "the gateway certificates pinned at certify")
        }
        do { return try ClientTLS(trust: .caFile(gatewayCA)) } catch let error as TLSError {
            throw OperatorError(error.description)
        }
    }

    var valuePolicy: ValuePolicy { ValuePolicy(toleranceWh: valueToleranceWh, suspendAfter: suspendAfter) }

    func validate() throws {
        guard ListenAddress(argument: listen) != nil else {
            throw ValidationError(
                "--listen '\(listen)' is not host:port (for example 127.0.0.1:8090, 0.0.0.0:8090 or [::1]:8090; port 0 picks a free one)"
            )
        }
        if let logOrigin {
            do { try LogSigner.check(origin: logOrigin) } catch {
                throw ValidationError(
                    "--log-origin '\(logOrigin.prefix(80))': \(error) (for example HOST/super-node, without a scheme)"
                )
            }
        }
        guard (1...86_400).contains(fenceAfter) else {
            throw ValidationError("--fence-after must be between 1 and 86400 seconds; got \(fenceAfter)")
        }
        if fenceAfter != Int(PostgresEngine.defaultFenceAfter.components.seconds), data.store == nil {
            throw ValidationError("--fence-after only applies with --store postgres://… (replicas sharing a store)")
        }
        guard residentAudits >= 1 else {
            throw ValidationError(
                "--resident-audits must be at least 1 (gateways' audits held in memory); got \(residentAudits)"
            )
        }
        guard snapshotEntries >= 1 else {
            throw ValidationError("--snapshot-entries must be at least 1 (entries between a gateway's audit snapshots)")
        }
        guard suspendAfter >= 1 else {
            throw ValidationError(
                "--suspend-after must be at least 1 (the number of flagged blocks that suspends a gateway); got \(suspendAfter)"
            )
        }
    }

    func run() async throws {
        var dir = data.directory
        dir.fenceAfter = .seconds(fenceAfter)
        try dir.requireInitialised()
        guard let lock = try DirectoryLock(path: dir.lockPath) else {
            throw OperatorError(
                "another super-node is serving \(dir.path) (it holds \(dir.lockPath)); stop it first, or use another --data directory"
            )
        }
        defer { withExtendedLifetime(lock) {} }
        let logger = try logging.bootstrap(label: "super-node")
        let listen = ListenAddress(argument: listen)!
        let identity = try tls.identity(directory: dir.directory, listen: listen, logger: logger)
        let node: SuperNode
        let pins = try GatewayTLSPins(dir).load()
        let gatewayTLS = try gatewayClientTLS(pinned: pins)
        do {
            node = try await SuperNode.open(
                directory: dir,
                logger: logger,
                value: valuePolicy,
                gatewayTLS: gatewayTLS,
                logOrigin: logOrigin,
                snapshotEntries: snapshotEntries,
                residentAudits: residentAudits
            )
        } catch let error
            as OperatorError
        { throw error } catch {
            throw OperatorError("cannot open \(dir.path): \(error)")
        }
        let audited = try await node.auditedTips().count
        logger.notice(
            "super node ready",
            metadata: [
                "gateways.tls_pinned": "\(pins.gateways.count)",
                "root.id": "\(node.root.id.hex)", "gateways.audited": "\(audited)", "store": "\(dir.storeLocation)",
                "value.tolerance.wh": "\(valuePolicy.toleranceWh)", "suspend.after": "\(valuePolicy.suspendAfter)",
                "log.origin": "\(node.log.origin)", "log.verifier_key": "\(node.log.key.verifierKey)",
            ]
        )
        try await node.serve(
            directory: dir,
            listen: listen,
            limits: connections.limits,
            tls: identity,
            gatewayPins: pins,
            handleSignals: true
        )
        logger.notice("stopped cleanly")
    }
}

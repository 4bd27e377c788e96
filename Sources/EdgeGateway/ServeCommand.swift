import ArgumentParser
import Foundation
import GatewayCore
import GridAPI
import GridAPIServer
import GridTLS
import LedgerLite
import Logging
import OperatorKit

/// `--dispatch-policy lowest-tnt|split-tnt`.
struct DispatchPolicyArgument: ExpressibleByArgument, Sendable {
    var policy: DispatchPolicy

    init(_ policy: DispatchPolicy) { self.policy = policy }

    init?(argument: String) {
        guard let policy = DispatchPolicy.allCases.first(where: { $0.description == argument.lowercased() }) else {
            return nil
        }
        self.policy = policy
    }

    var defaultValueDescription: String { policy.description }
    static var allValueStrings: [String] { DispatchPolicy.allCases.map(\.description) }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: HTTP(S) ingest, block sealing, queries and metrics.",
        discussion:
            "Writes the listen URL to DIR/gateway.url once bound (use --listen 127.0.0.1:0 for any free port). SIGTERM or SIGINT seals what is pending and exits 0. With --super-node URL --certificate FILE, sealed blocks are pushed to the super node in height order and its checkpoints kept in DIR/checkpoints.sqlite (GET /v1/uplink, `inspect checkpoints`); its root key is kept in DIR/super-node-root.pub once verified; on SIGTERM or SIGINT the final block and any other unacknowledged ones get one last push (at most 5 s) before the exit. TLS: --tls serves HTTPS with the certificate `init` made (DIR/tls.crt; its fingerprint is written to DIR/gateway.url.fingerprint while serving), --tls-cert/--tls-key with the operator's. Plain HTTP is the default on loopback only: another --listen address needs --tls, or --allow-plain-http (logged as a warning), and then admin calls (enroll, revoke) are accepted from loopback only. The gateway presents its TLS certificate to an https:// super node (mutual TLS)."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("Address to listen on, host:port (port 0 picks a free port).", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Seal a block once this many entries are pending (1 to 10000).")
    var sealSize: Int = 500

    @Option(help: "Seal a block once its oldest entry is this old (500ms, 2s, 1m).")
    var sealInterval: DurationArgument = DurationArgument(.seconds(2), text: "2s")

    @Option(
        help: ArgumentHelp(
            "Store a resume snapshot with a block once this many entries (and at least one per enrolled meter) were sealed since the last: start-up replays at most that many entries after it (at least 1).",
            valueName: "entries"
        )
    )
    var snapshotEntries: UInt64 = ChainWriterConfig().snapshotEntries

    @Option(
        help:
            "Accept readings at most this far ahead of the gateway clock (and at most this far before the meter's previous reading)."
    )
    var maxSkew: DurationArgument = DurationArgument(.seconds(300), text: "5m")

    @Option(
        name: .customLong("accept-v1-readings-until"),
        help: ArgumentHelp(
            "Take version 1 readings (which name no gateway, from agents not yet upgraded) until this date (2027-03-01, midnight UTC) or time (2027-03-01T12:00:00Z); from then on they are refused as retired-reading-version. A past date refuses them now.",
            valueName: "date"
        )
    )
    var acceptV1ReadingsUntil = CutoffArgument(
        milliseconds: ReadingVersionPolicy.defaultVersion1CutoffMs,
        text: "2027-03-01"
    )

    @Option(
        help: ArgumentHelp(
            "How energy requests are dispatched: lowest-tnt (one producer, the lowest TNT among those with enough energy; else unserved) or split-tnt (when no single producer can cover a request, producers in TNT order share it). Recorded on the chain when it changes; without it the chain's policy stays (lowest-tnt on a new chain).",
            valueName: "policy"
        )
    )
    var dispatchPolicy: DispatchPolicyArgument?

    @Option(
        help: ArgumentHelp(
            "Wh a producer may offer beyond what its meter has exported (value verification: the excess is cut and an anomaly recorded). Recorded on the chain when it changes; without it the chain's tolerance stays (0 on a new chain).",
            valueName: "Wh"
        )
    )
    var offerToleranceWh: UInt64?

    @Option(
        name: .customLong("super-node"),
        help: ArgumentHelp(
            "The super node this gateway answers to (its base URL, e.g. http://10.0.0.1:8090): sealed blocks are pushed there and the checkpoints it answers kept; requests no local producer can serve are escalated to it, and it may commit escalated dispatches here. Needs --certificate. Repeat it once per replica of a super node whose replicas share a PostgreSQL store: the gateway uses one at a time and moves to the next when it does not answer (docs/SCALING.md). The gateway serves even while the super node is down: blocks wait and go in order once it is back.",
            valueName: "url"
        )
    )
    var superNodes: [String] = []

    /// The first `--super-node`, nil without one.
    var superNode: String? { superNodes.first }

    @Option(
        help: ArgumentHelp(
            "The certificate file `super-node certify` wrote for this gateway's key (with --super-node).",
            valueName: "file"
        )
    )
    var certificate: String?

    @Option(
        name: .customLong("advertise-url"),
        help: ArgumentHelp(
            "The URL the super node reaches this gateway at, sent with every push (default: the bound --listen URL).",
            valueName: "url"
        )
    )
    var advertiseURL: String?

    @Option(
        name: .customLong("super-node-key"),
        help: ArgumentHelp(
            "Pin the super node's root public key (root.key.pub) instead of fetching it from GET /v1/root on first contact; it must be the certificate's issuer.",
            valueName: "file.pub"
        )
    )
    var superNodeKey: String?

    @Option(
        name: .customLong("super-node-fingerprint"),
        help: ArgumentHelp(
            "With an https:// --super-node: trust exactly the certificate with this SHA-256 fingerprint (`super-node init` printed it).",
            valueName: "sha256"
        )
    )
    var superNodeFingerprint: String?

    @Option(
        name: .customLong("super-node-ca"),
        help: ArgumentHelp(
            "With an https:// --super-node: trust the CA certificates in this PEM file (or the super node's own tls.crt) instead of the system's.",
            valueName: "file.pem"
        )
    )
    var superNodeCA: String?

    @OptionGroup(title: "TLS") var tls: ServerTLSOptions

    @OptionGroup(title: "Connections") var connections: ServerLimitOptions

    @OptionGroup var logging: LoggingOptions

    /// An http:// or https:// URL with a host.
    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
            let host = url.host, !host.isEmpty
        else { return false }
        return true
    }

    func validate() throws {
        switch (superNode, certificate) {
        case (_?, nil):
            throw ValidationError(
                "--super-node needs --certificate FILE (the certificate `super-node certify` wrote for this gateway)"
            )
        case (nil, _?): throw ValidationError("--certificate needs --super-node URL (the super node that issued it)")
        default: break
        }
        if superNode == nil, advertiseURL != nil {
            throw ValidationError("--advertise-url only applies with --super-node URL --certificate FILE")
        }
        if superNode == nil, superNodeKey != nil {
            throw ValidationError("--super-node-key only applies with --super-node URL --certificate FILE")
        }
        if superNodeFingerprint != nil || superNodeCA != nil {
            guard !superNodes.isEmpty, superNodes.allSatisfy({ $0.lowercased().hasPrefix("https:") }) else {
                throw ValidationError(
                    "--super-node-fingerprint and --super-node-ca only apply with an https:// --super-node"
                )
            }
        }
        guard Set(superNodes).count == superNodes.count else {
            throw ValidationError("--super-node names the same URL twice; give each replica's URL once")
        }
        _ = try ServerTrust.from(
            fingerprint: superNodeFingerprint,
            caFile: superNodeCA,
            flags: ("--super-node-fingerprint", "--super-node-ca")
        )
        for superNode in superNodes where !Self.isHTTPURL(superNode) {
            throw ValidationError(
                "--super-node '\(superNode)' is not an http:// or https:// URL with a host (for example http://10.0.0.1:8090)"
            )
        }
        if let advertiseURL, !Self.isHTTPURL(advertiseURL) {
            throw ValidationError(
                "--advertise-url '\(advertiseURL)' is not an http:// or https:// URL with a host (for example http://10.0.0.7:8080)"
            )
        }
        guard ListenAddress(argument: listen) != nil else {
            throw ValidationError(
                "--listen '\(listen)' is not host:port (for example 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080; port 0 picks a free one)"
            )
        }
        guard (1...ChainWriterConfig.maxSealSize).contains(sealSize) else {
            throw ValidationError(
                "--seal-size must be between 1 and \(ChainWriterConfig.maxSealSize) (a block must fit in one push to the super node)"
            )
        }
        guard snapshotEntries >= 1 else {
            throw ValidationError("--snapshot-entries must be at least 1")
        }
        guard sealInterval.duration > .zero else {
            throw ValidationError("--seal-interval must be more than 0, e.g. 2s")
        }
    }

    func run() async throws {
        let logger = try logging.bootstrap(label: "edge-gateway")
        let dir = data.directory
        try dir.requireInitialised()
        guard let lock = try DirectoryLock(path: dir.lockPath) else {
            throw OperatorError(
                "another edge-gateway is serving \(dir.path) (it holds \(dir.lockPath)); stop it first, or use another --data directory"
            )
        }
        let listen = ListenAddress(argument: listen)!
        let identity = try tls.identity(directory: dir.directory, listen: listen, logger: logger)

        var config = ChainWriterConfig()
        config.sealSize = sealSize
        config.snapshotEntries = snapshotEntries
        config.sealIntervalMs = max(1, Int64(sealInterval.duration.milliseconds))
        config.maxSkewMs = Int64(maxSkew.duration.milliseconds)
        config.readingVersions = ReadingVersionPolicy(acceptVersion1UntilMs: acceptV1ReadingsUntil.milliseconds)
        var link: SuperNodeLink?
        if !superNodes.isEmpty, let certificate {
            link = try SuperNodeLink.load(
                urls: superNodes,
                certificateFile: certificate,
                pinnedRootKeyFile: superNodeKey,
                directory: dir,
                gatewayKey: try dir.loadPublicKey(),
                tls: try superNodeTLS(served: identity, directory: dir)
            )
        }
        let gateway = try await Gateway.open(
            directory: dir,
            config: config,
            logger: logger,
            superNode: link,
            advertiseURL: advertiseURL
        )
        if dispatchPolicy != nil || offerToleranceWh != nil {
            let chain = await gateway.writer.tntState()
            do {
                _ = try await gateway.writer.adopt(
                    policy: dispatchPolicy?.policy ?? chain.policy,
                    offerToleranceWh: offerToleranceWh ?? chain.offerToleranceWh
                )
            } catch {
                await gateway.shutdown()
                throw OperatorError("cannot record the dispatch policy on the chain: \(error.description)")
            }
        }
        let health = await gateway.writer.health()
        logger.notice(
            "chain resumed",
            metadata: [
                "blocks": "\(health.blocks)", "entries": "\(health.entries)", "pending": "\(health.pending)",
                "gateway.id": "\(health.gateway)",
            ]
        )
        do {
            try await gateway.serve(
                listen: listen,
                sealTick: .milliseconds(max(50, config.sealIntervalMs / 4)),
                limits: connections.limits,
                tls: identity
            )
        } catch {
            await gateway.shutdown()
            throw error
        }
        withExtendedLifetime(lock) {}
        let pending = await gateway.writer.health().pending
        await gateway.shutdown()
        logger.notice("stopped cleanly", metadata: ["pending": "\(pending)"])
    }
}

extension ServeCommand {
    /// How the uplink and escalations recognise an https:// super node, and the client
    /// certificate the gateway presents to it: the one it serves with, else DIR/tls.crt when
    /// `init` made one.
    func superNodeTLS(served: TLSIdentity?, directory: DataDirectory) throws -> ClientTLS {
        let trust = try ServerTrust.from(
            fingerprint: superNodeFingerprint,
            caFile: superNodeCA,
            flags: ("--super-node-fingerprint", "--super-node-ca")
        )
        var identity = served
        if identity == nil, directory.directory.hasTLSCertificate {
            identity = try TLSIdentity(
                certificatePath: directory.directory.tlsCertificatePath,
                keyPath: directory.directory.tlsKeyPath
            )
        }
        do { return try ClientTLS(trust: trust, identity: identity) } catch let error as TLSError {
            throw OperatorError(error.description)
        }
    }
}

extension Gateway {
    /// Serves HTTP (HTTPS with `tls`) until SIGTERM/SIGINT, with the sealing service; writes
    /// DIR/gateway.url once the port is bound.
    func serve(listen: ListenAddress, sealTick: Duration, limits: ServerLimits, tls: TLSIdentity?) async throws {
        let group =
            if let tls {
                try makeServiceGroup(listen: listen, sealTick: sealTick, handleSignals: true, limits: limits, tls: tls)
            } else {
                makeServiceGroup(listen: listen, sealTick: sealTick, handleSignals: true, limits: limits)
            }
        try await run(group, listen: listen)
    }
}

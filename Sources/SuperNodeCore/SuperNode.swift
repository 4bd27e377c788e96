import GridAPI
import GridAPIServer
import LedgerLite
import Logging
import Synchronization

/// The super node (`SuperNode`): root key, authority store, and the audited state of every gateway's chain.
///
/// Pushes are handled one at a time on the store's writer queue (never on the cooperative
/// pool): certificate check, audit, then the block and its checkpoint are committed before
/// the in-memory chain state moves on. At most `serve --resident-audits` gateways' audits
/// are held in memory (`ResidentAudits`); another is restored from its audit snapshot when
/// its gateway pushes or is asked about.
package final class SuperNode: Sendable {
    package let root: SigningIdentity
    package let store: AuthorityStore
    package let logger: Logger
    package let clock: @Sendable () -> Int64
    /// The value rule this node applies (`serve --value-tolerance-wh`, `--suspend-after`).
    package let value: ValuePolicy
    /// Entries between a gateway's audit snapshots (`serve --snapshot-entries`).
    package let snapshotEntries: UInt64
    private let audits: Mutex<ResidentAudits>
    /// The pushes and escalations answered, for the dashboard's event streams.
    package let events = EventBroadcast()
    /// Checks that pushes and escalations are signed by their gateway's certified key.
    package let requests: RequestAuthenticator
    /// How an https:// gateway is recognised when the super node calls it (escalations).
    package let gatewayTLS: ClientTLS
    /// Signs the checkpoint log's C2SP checkpoint under its origin.
    package let log: LogSigner

    private init(
        root: SigningIdentity,
        store: AuthorityStore,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64,
        value: ValuePolicy,
        snapshotEntries: UInt64,
        residentAudits: Int,
        requests: RequestAuthenticator,
        gatewayTLS: ClientTLS,
        log: LogSigner
    ) {
        self.root = root
        self.store = store
        self.logger = logger
        self.clock = clock
        self.value = value
        self.snapshotEntries = snapshotEntries
        self.audits = Mutex(ResidentAudits(capacity: residentAudits))
        self.requests = requests
        self.gatewayTLS = gatewayTLS
        self.log = log
    }

    /// The base URL each gateway last announced (read from the store: a push to another
    /// replica may have announced it).
    package func gatewayEndpoints() async throws -> [GatewayID: String] {
        try await store.read { db in try AuthorityStore.endpoints(db) }
    }

    /// The default of `serve --snapshot-entries`: entries between a gateway's audit snapshots.
    package static let defaultSnapshotEntries: UInt64 = 8192

    /// Opens a data directory. Each gateway's audit snapshot is checked against the signed
    /// header of its block (a store written before snapshots has each gateway's chain replayed
    /// in full once, and gets them), but no audit is kept: each is restored when its gateway
    /// first pushes or is asked about (`GatewayAudit.restore`), so start-up costs the number
    /// of gateways, never the blocks they pushed.
    /// - Parameter logOrigin: the checkpoint log's origin (`LogSigner.defaultOrigin` when nil).
    /// - Parameter snapshotEntries: entries between a gateway's audit snapshots (at least 1).
    /// - Parameter residentAudits: the most gateways' audits held in memory (at least 1).
    /// - Throws: `StoreDamage`, one line, when a snapshot disagrees with its chain.
    package static func open(
        directory: SuperDirectory,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64 = Timestamps.now,
        value: ValuePolicy = .standard,
        requests: RequestAuthenticator = RequestAuthenticator(),
        gatewayTLS: ClientTLS = .system,
        logOrigin: String? = nil,
        snapshotEntries: UInt64 = defaultSnapshotEntries,
        residentAudits: Int = ResidentAudits.defaultCapacity
    ) async throws -> SuperNode {
        let root = try directory.loadKey()
        let log = try LogSigner(origin: logOrigin ?? LogSigner.defaultOrigin(root: root.id), root: root)
        let store = try await directory.openStore(logger: logger)
        try await store.read { db in try CheckpointLog.requireOneEntryPerCheckpoint(db, store: directory.storeLocation)
        }
        // A write: a gateway without a snapshot gets one.
        let (checked, upgraded) = try await store.write { db -> (Int, [(GatewayID, GatewayAudit.Restored)]) in
            var checked = 0
            var upgraded: [(GatewayID, GatewayAudit.Restored)] = []
            for gateway in try AuthorityStore.auditedGateways(db) {
                let key = try GatewayAudit.key(of: gateway, storePath: directory.storeLocation, db)
                if try AuthorityStore.auditSnapshot(db, gateway: gateway) != nil {
                    _ = try GatewayAudit.resumed(gateway: gateway, key: key, storePath: directory.storeLocation, db)
                    checked += 1
                } else {
                    upgraded.append(
                        (
                            gateway,
                            try GatewayAudit.restore(gateway: gateway, key: key, storePath: directory.storeLocation, db)
                        )
                    )
                }
            }
            return (checked, upgraded)
        }
        for (gateway, restored) in upgraded {
            logger.notice(
                "the store had no audit snapshot of this gateway (written by an earlier version): replayed its whole chain once and wrote one; later start-ups resume from it",
                metadata: restored.metadata(gateway: gateway)
            )
        }
        let standings = try await store.read { db in try AuthorityStore.valueStandings(db) }
        for (gateway, standing) in standings.sorted(by: { $0.key.hex < $1.key.hex }) {
            guard let suspension = standing.suspension else { continue }
            logger.warning(
                "gateway suspended by the value verification: its pushes are refused",
                metadata: [
                    "gateway.id": "\(gateway.hex)", "suspended.at": "\(Timestamps.iso(suspension.suspendedAt))",
                    "value.flagged_blocks": "\(standing.flaggedBlocks)",
                    "fix": "super-node reinstate --data DIR --gateway \(gateway.hex)",
                ]
            )
        }
        logger.info(
            "audit snapshots checked",
            metadata: [
                "gateways.checked": "\(checked)", "gateways.upgraded": "\(upgraded.count)",
                "audits.resident_max": "\(max(1, residentAudits))",
            ]
        )
        return SuperNode(
            root: root,
            store: store,
            logger: logger,
            clock: clock,
            value: value,
            snapshotEntries: max(1, snapshotEntries),
            residentAudits: residentAudits,
            requests: requests,
            gatewayTLS: gatewayTLS,
            log: log
        )
    }

    /// `gateway`'s audit: the one held in memory when it is at the gateway's stored tip, or
    /// else restored from the store and held (dropping the least recently used when `serve
    /// --resident-audits` are held). Only in a transaction holding the gateway's lock. Nil
    /// when the gateway has no accepted block.
    /// - Throws: `StoreDamage` when the stored audit disagrees with its chain (logged as an
    ///   error: the gateway's pushes are refused until the store is repaired).
    private func residentAudit(of gateway: GatewayID, _ db: any StoreConnection) throws -> GatewayAudit? {
        let tip = try AuthorityStore.acceptedTipHeight(db, gateway: gateway)
        if let held = audits.withLock({ $0.use(gateway) }), held.auditor.tip?.height == tip { return held }
        // Not held, or behind the store: another replica sharing it accepted blocks since.
        guard tip != nil else { return nil }
        let storePath = store.location
        let restored: GatewayAudit.Restored
        do {
            let key = try GatewayAudit.key(of: gateway, storePath: storePath, db)
            restored = try GatewayAudit.restore(gateway: gateway, key: key, storePath: storePath, db)
        } catch let damage as StoreDamage {
            logger.error(
                "audit cannot be restored: the gateway's pushes are refused until the store is repaired",
                metadata: ["gateway.id": "\(gateway.hex)", "error": "\(damage.description)"]
            )
            throw damage
        }
        if restored.wroteSnapshot {
            logger.notice(
                "the store had no audit snapshot of this gateway (written by an earlier version): replayed its whole chain once and wrote one",
                metadata: restored.metadata(gateway: gateway)
            )
        } else {
            logger.info("audit resumed", metadata: restored.metadata(gateway: gateway))
        }
        audits.withLock { $0.keep(restored.audit, for: gateway) }
        return restored.audit
    }

    /// `gateway`'s audit as the store holds it now: the one held when it is at the stored
    /// tip, else restored (under the gateway's lock, in order with pushes); nil before its
    /// first accepted block.
    package func audit(of gateway: GatewayID) async throws -> GatewayAudit? {
        if let held = audits.withLock({ $0.peek(gateway) }),
            try await store.read({ db in try AuthorityStore.acceptedTipHeight(db, gateway: gateway) })
                == held.auditor.tip?.height
        {
            return held
        }
        return try await store.session { db in
            try db.transaction {
                try db.serialize(on: .gateway(gateway))
                return try self.residentAudit(of: gateway, db)
            }
        }
    }

    /// How many gateways' audits are held in memory now.
    package var residentAuditCount: Int { audits.withLock { $0.count } }

    /// The most gateways' audits held in memory (`serve --resident-audits`).
    package var residentAuditCapacity: Int { audits.withLock { $0.capacity } }

    /// `gateway`'s chain as audited here (tip, Merkle frontier, rules state), nil before its
    /// first accepted block.
    package func auditedChain(of gateway: GatewayID) async throws -> ChainSnapshot? {
        try await audit(of: gateway)?.auditor.snapshot
    }

    /// The tip of each gateway's accepted chain, read from the store (one index lookup per
    /// gateway, no audit restored).
    package func auditedTips() async throws -> [GatewayID: ChainTip] {
        try await store.read { db in try AuthorityStore.acceptedTips(db) }
    }

    /// Checks the certificate and the gateway's signature over the request (`proof`), audits
    /// and checkpoints each block in order, then records the URL the gateway announces (if
    /// any), only when every block was accepted.
    /// Before a push's body is read (it may be `BodyLimit.push` bytes): its signed stamp must
    /// verify under the key of a gateway this super node certified (revoked or not: a revoked
    /// gateway is told so once its push is read) and be stamped within the window.
    /// - Throws: `Rejection` (`missing-signature`, `malformed-signature`, `unknown-certificate`,
    ///   `bad-signature`, `stale-request`).
    package func admitPush(signature: String?) async throws {
        let signed = try RequestAuthenticator.stamp(in: signature)
        let key = try await store.read { db in
            try AuthorityStore.certificates(db, gateway: signed.stamp.signer).first?.certificate.gatewayKey
        }
        try requests.admit(signed, certifiedKey: key, now: clock())
    }

    package func push(
        certificate: [UInt8]?,
        proof: RequestProof,
        gatewayURL: String? = nil,
        blocks: [[UInt8]]
    ) async throws -> PushOutcome {
        try await store.session { db in
            var outcome = PushOutcome()
            let cert: SignedGatewayCertificate
            do {
                cert = try self.checkCertificate(certificate, db)
                try self.requests.authenticate(
                    proof,
                    endpoint: SuperNodeRoutes.blocks,
                    certificate: cert.certificate,
                    now: self.clock()
                )
            } catch let rejection as Rejection {
                outcome.rejection = rejection
                var metadata: Logger.Metadata = [
                    "reason": "\(rejection.reason.rawValue)", "detail": "\(rejection.message)",
                    "blocks": "\(blocks.count)",
                ]
                if let presented = certificate.flatMap({ try? SignedGatewayCertificate(bytes: $0) })?.certificate {
                    metadata["gateway.id"] = "\(presented.gateway.hex)"
                    metadata["certificate.serial"] = "\(presented.serial)"
                }
                self.logger.warning("push refused", metadata: metadata)
                return outcome
            }
            outcome.gateway = cert.certificate.gateway
            for (index, bytes) in blocks.enumerated() {
                do {
                    let accepted = try self.accept(bytes, index: index, certificate: cert, db)
                    outcome.accepted.append(accepted)
                    if let suspension = accepted.suspension, index + 1 < blocks.count {
                        // Suspended from this block on: the rest of the push is refused.
                        throw Self.suspended(suspension, certificate: cert.certificate)
                    }
                } catch var rejection as Rejection {
                    rejection.index = outcome.accepted.count
                    outcome.rejection = rejection
                    self.logger.warning(
                        "block rejected",
                        metadata: [
                            "gateway.id": "\(cert.certificate.gateway.hex)", "block.index": "\(outcome.accepted.count)",
                            "block.height": "\(rejection.height.map { "\($0)" } ?? "-")",
                            "reason": "\(rejection.reason.rawValue)",
                            "detail": "\(rejection.message)",
                        ]
                    )
                    break
                }
            }
            if let gatewayURL, outcome.rejection == nil, !outcome.accepted.isEmpty {
                try self.recordEndpoint(gatewayURL, gateway: cert.certificate.gateway, db)
            }
            return outcome
        }
    }

    /// Records the URL a gateway announced in a push that was signed and wholly accepted:
    /// escalated dispatches go there, so a refused or unsigned push never moves it.
    private func recordEndpoint(_ url: String, gateway: GatewayID, _ db: any StoreConnection) throws {
        guard try AuthorityStore.endpoint(db, gateway: gateway) != url else { return }
        try AuthorityStore.setEndpoint(url, gateway: gateway, at: clock(), db)
        logger.info("gateway endpoint", metadata: ["gateway.id": "\(gateway.hex)", "url": "\(url)"])
    }

    /// Why `consumer`, with `key`, may not have its requests escalated for `gateway`: it must
    /// be enrolled as a consumer, not revoked, with that key, on the gateway's chain as this
    /// node audited it. Nil when it may.
    package func consumerProblem(
        _ consumer: MeterID,
        key: PublicIdentity,
        gateway: GatewayID
    ) async throws -> String? {
        guard let auditor = try await audit(of: gateway)?.auditor else {
            return
                "gateway \(gateway.hex) has pushed no block yet, so no consumer of it is known here; push the block that enrolls consumer \(consumer.hex) first"
        }
        let state = auditor.verified.state
        let audited = "gateway \(gateway.hex)'s chain as audited here (up to block \(auditor.tip?.height ?? 0))"
        do { try state.tnt.requireActiveMember(consumer, needs: .consumer) } catch {
            return
                "consumer \(consumer.hex) is not an active consumer on \(audited): \(error); push the block that enrolls it first"
        }
        guard state.key(of: consumer) == key else {
            return "consumer \(consumer.hex) is enrolled on \(audited) with another key than the one given"
        }
        return nil
    }

    /// The certified key of `gateway`, from the register (nil when it holds no certificate).
    package func certifiedKey(of gateway: GatewayID) async throws -> PublicIdentity? {
        try await store.read { db in
            try AuthorityStore.certificates(db, gateway: gateway).last?.certificate.gatewayKey
        }
    }

    /// Checks a certificate a gateway presents, reading the register on every call (so
    /// `revoke` and `reinstate` from the command line take effect at once): it decodes, is
    /// signed by this node's root key, is in the register and not revoked, and its gateway is
    /// not suspended by the value verification. Used for pushes and escalations alike.
    /// - Returns: the certificate.
    /// - Throws: `Rejection` (`missing-certificate`, `malformed-certificate`,
    ///   `untrusted-certificate`, `unknown-certificate`, `revoked-certificate` or
    ///   `suspended-certificate`).
    package func checkCertificate(_ bytes: [UInt8]?, _ db: any StoreConnection) throws -> SignedGatewayCertificate {
        guard let bytes, !bytes.isEmpty else {
            throw Rejection(
                reason: .missingCertificate,
                message: "the push carries no gateway certificate; send the one `super-node certify` issued"
            )
        }
        let cert: SignedGatewayCertificate
        do { cert = try SignedGatewayCertificate(bytes: bytes) } catch {
            throw Rejection(reason: .malformedCertificate, message: "the certificate does not decode: \(error)")
        }
        let c = cert.certificate
        guard cert.isSignatureValid(by: root.publicIdentity) else {
            throw Rejection(
                reason: .untrustedCertificate,
                message:
                    "certificate serial \(c.serial) for gateway \(c.gateway.hex) is not signed by this super node's root key \(root.id.hex)"
            )
        }
        guard let stored = try AuthorityStore.certificate(db, serial: c.serial), stored.signed.bytes == cert.bytes
        else {
            throw Rejection(
                reason: .unknownCertificate,
                message:
                    "certificate serial \(c.serial) for gateway \(c.gateway.hex) is not in this super node's register"
            )
        }
        if let at = stored.revokedAt {
            throw Rejection(
                reason: .revokedCertificate,
                message:
                    "certificate serial \(c.serial) of gateway \(c.gateway.hex) (\"\(c.name)\") was revoked at \(Timestamps.iso(at))"
            )
        }
        if let suspension = try AuthorityStore.activeSuspension(db, gateway: c.gateway) {
            throw Self.suspended(suspension, certificate: c)
        }
        return cert
    }

    /// The refusal of a suspended gateway's request: since when, how many flagged blocks,
    /// and the operator's command that lifts it.
    package static func suspended(_ s: Suspension, certificate c: GatewayCertificate) -> Rejection {
        Rejection(
            reason: .suspendedCertificate,
            message:
                "gateway \(c.gateway.hex) (\"\(c.name)\") is suspended since \(Timestamps.iso(s.suspendedAt)) after \(s.flagCount) value-flagged blocks (the last at height \(s.height): energy dispatched beyond its producers' metered export); an operator must run `super-node reinstate --data DIR --gateway \(c.gateway.hex)`"
        )
    }

    private func accept(
        _ bytes: [UInt8],
        index: Int,
        certificate cert: SignedGatewayCertificate,
        _ db: any StoreConnection
    ) throws -> Accepted {
        let block: Block
        do { block = try Block(wireBytes: bytes) } catch {
            throw Rejection(reason: .malformedBlock, message: "block \(index) of the push does not decode: \(error)")
        }
        let gateway = cert.certificate.gateway
        let height = block.height
        guard block.header.header.gateway == gateway else {
            throw Rejection(
                reason: .wrongGateway,
                message:
                    "block \(height) names gateway \(block.header.header.gateway.hex), but the certificate is for gateway \(gateway.hex)",
                height: height
            )
        }
        // Under the gateway's lock from the audit to the commit: on a shared store, another
        // replica may audit the same gateway's next push, and must see this one's outcome.
        let outcome = try db.transaction { () -> (accepted: Accepted, audit: GatewayAudit?) in
            try db.serialize(on: .gateway(gateway))
            var audit = try residentAudit(of: gateway, db) ?? GatewayAudit(gatewayKey: cert.certificate.gatewayKey)
            if height < audit.auditor.nextHeight {
                guard let stored = try AuthorityStore.acceptedBlock(db, gateway: gateway, height: height) else {
                    throw StoreDamage("gateway \(gateway.hex): block \(height) was audited but is not in the store")
                }
                guard stored.hash == block.hash else {
                    throw Rejection(
                        reason: .fork,
                        message:
                            "block \(height) (hash \(block.hash.hex)) differs from the block \(height) already accepted (hash \(stored.hash.hex)); a gateway's chain cannot be rewritten",
                        height: height
                    )
                }
                // The hash covers the header only: a copy with altered entries under the accepted
                // header is not a replay, and must not be answered with the checkpoint.
                guard stored.wireBytes == block.wireBytes() else {
                    throw Rejection(
                        reason: .fork,
                        message:
                            "block \(height) has the header of the block \(height) already accepted (hash \(stored.hash.hex)) but other entries; a gateway's chain cannot be rewritten",
                        height: height
                    )
                }
                return (Accepted(checkpoint: stored.checkpoint, replayed: true), nil)
            }
            guard height == audit.auditor.nextHeight else {
                throw Rejection(
                    reason: .gap,
                    message:
                        "block \(height) does not extend the audited chain: the next block must have height \(audit.auditor.nextHeight)",
                    height: height,
                    expectedHeight: audit.auditor.nextHeight
                )
            }
            try Self.audit(block, on: &audit)
            let now = clock()
            try requireNotAhead(block, now: now)
            try requireOwnAuthority(block)
            let checkpoint = try SignedCheckpoint.sign(
                Checkpoint(
                    issuer: root.id,
                    gateway: gateway,
                    certificateSerial: cert.certificate.serial,
                    height: height,
                    blockHash: block.hash,
                    merkleRoot: block.header.header.merkleRoot,
                    treeSize: block.header.header.treeSize,
                    checkpointedAt: now
                ),
                with: root
            )
            let flags = value.flags(for: block, after: audit.auditor.verified.state.tnt, gateway: gateway, at: now)
            let snapshot = audit.snapshot(after: block, every: snapshotEntries)
            var suspension: Suspension?
            try AuthorityStore.insertBlock(block, checkpoint: checkpoint, db)
            if let snapshot {
                try AuthorityStore.saveAuditSnapshot(
                    AuditSnapshot.encoded(snapshot),
                    gateway: gateway,
                    height: height,
                    db
                )
                audit.snapshotStored()
            }
            try CheckpointLog.append([checkpoint.bytes], db)
            for flag in flags { try AuthorityStore.insertFlag(flag, db) }
            if !flags.isEmpty {
                let count = try AuthorityStore.flaggedBlocksSinceReinstatement(db, gateway: gateway)
                if count >= value.suspendAfter, try AuthorityStore.activeSuspension(db, gateway: gateway) == nil {
                    suspension = try AuthorityStore.suspend(
                        gateway: gateway,
                        height: height,
                        flagCount: count,
                        at: now,
                        db
                    )
                }
            }
            return (Accepted(checkpoint: checkpoint, replayed: false, flags: flags, suspension: suspension), audit)
        }
        guard let audit = outcome.audit else { return outcome.accepted }
        let (flags, suspension) = (outcome.accepted.flags, outcome.accepted.suspension)
        audits.withLock { $0.keep(audit, for: gateway) }
        logger.info(
            "block checkpointed",
            metadata: [
                "gateway.id": "\(gateway.hex)", "block.height": "\(height)", "block.hash": "\(block.hash.hex)",
                "tree.size": "\(block.header.header.treeSize)",
            ]
        )
        for flag in flags {
            logger.warning(
                "value flag: dispatched energy exceeds metered export",
                metadata: [
                    "gateway.id": "\(gateway.hex)", "block.height": "\(height)", "meter.id": "\(flag.producer.hex)",
                    "dispatched.wh": "\(flag.dispatchedWh)", "exported.wh": "\(flag.exportedWh)",
                    "tolerance.wh": "\(flag.toleranceWh)",
                    "chain.tolerance.wh": "\(flag.chainToleranceWh)",
                ]
            )
        }
        if let suspension {
            logger.error(
                "gateway suspended: value flags reached the limit",
                metadata: [
                    "gateway.id": "\(gateway.hex)", "block.height": "\(height)",
                    "value.flagged_blocks": "\(suspension.flagCount)",
                    "suspend.after": "\(value.suspendAfter)",
                    "fix": "super-node reinstate --data DIR --gateway \(gateway.hex)",
                ]
            )
        }
        return outcome.accepted
    }

    /// Audits `block` on `audit`; a failure is the push's rejection with the audit's reason.
    private static func audit(_ block: Block, on audit: inout GatewayAudit) throws {
        do { try audit.auditor.append(block) } catch {
            throw Rejection(reason: Reason(error.problem), message: error.description, height: block.height)
        }
    }

    /// A block may end at most the clock window (`RequestAuthenticator.clockWindow`, the
    /// window request stamps are held to) after this node's clock: the gateway's next block
    /// must start where it ends (`timestamps-out-of-order`), so a block from the future, once
    /// accepted, would refuse every genuine block after it until the clock got there —
    /// forever, for a time such as `Int64.max`. Refused, it changes nothing: the gateway's
    /// next genuine block is still taken, and this one once the clock comes within the window.
    private func requireNotAhead(_ block: Block, now: Int64) throws {
        let window = requests.clockWindow
        let end = block.header.header.lastTimestamp
        guard let ahead = window.tooFarAhead(end, of: now) else { return }
        throw Rejection(
            reason: .futureTimestamp,
            message:
                "block \(block.height) ends at \(end) ms (\(Timestamps.iso(end))), \(ahead / 1000) s after the super node's clock (\(Timestamps.iso(now))); a block may end at most \(window.milliseconds / 1000) s after it, or every later block of the gateway would be out of order (check the gateway's clock: the block is taken once the super node's clock is within \(window.milliseconds / 1000) s of its end)",
            height: block.height
        )
    }

    /// A chain's Authority records name the root key its escalation decisions are checked
    /// against: on a chain this node audits, that must be this node's root key, or the
    /// gateway could vouch for escalations with a key of its own making.
    private func requireOwnAuthority(_ block: Block) throws {
        for (offset, entry) in block.entries.enumerated() {
            guard case let .authority(authority) = entry.record, authority.rootKey != root.publicIdentity else {
                continue
            }
            let index = block.header.header.treeSize - UInt64(block.entries.count) + UInt64(offset)
            throw Rejection(
                reason: .foreignAuthority,
                message:
                    "block \(block.height), entry \(index): the authority record names root key \(authority.rootKey.id.hex), not this super node's root key \(root.id.hex); escalations on this chain would not be this super node's decisions",
                height: block.height
            )
        }
    }

    /// The checkpoint of an accepted block.
    package func checkpoint(gateway: GatewayID, height: UInt64) async throws -> SignedCheckpoint? {
        try await store.read { db in
            try AuthorityStore.acceptedBlock(db, gateway: gateway, height: height)?.checkpoint
        }
    }

    /// Every certificate issued.
    package func certificates() async throws -> [CertificateRow] {
        try await store.read { db in try AuthorityStore.certificates(db) }
    }

    /// Every gateway's value standing (suspension, flagged blocks), read from the store.
    package func valueStandings() async throws -> [GatewayID: ValueStanding] {
        try await store.read { db in try AuthorityStore.valueStandings(db) }
    }

    /// The value flags raised (for one gateway, when given).
    package func valueFlags(gateway: GatewayID? = nil) async throws -> [ValueFlag] {
        try await store.read { db in try AuthorityStore.flags(db, gateway: gateway) }
    }
}

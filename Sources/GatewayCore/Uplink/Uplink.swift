import AsyncHTTPClient
import Foundation
import GridAPI
import Hummingbird
import LedgerLite
import LedgerStore
import Logging
import ServiceLifecycle
import Synchronization

/// Pushes sealed, archived blocks to the super node (`POST /v1/blocks`) in height order, in
/// batches, with the gateway's certificate, each push signed with the gateway's key, and keeps
/// each checkpoint it answers once it has verified it (`CheckpointStore`). The blocks still to
/// push are simply those above the last checkpointed height, so a restart resumes from the store.
///
/// Network failures back off exponentially (0.5 s … 30 s); refusals wait `refusedDelay` and
/// try again (blocks are never dropped). The state is logged once per change, not per
/// attempt. Graceful shutdown cancels a wait or a request in flight at once, then makes one
/// final push of what is still unacknowledged, bounded by `finalPushTimeout`: `makeServiceGroup`
/// places the uplink so it stops after the sealer, so that push includes the final block.
package final class Uplink: Service, Sendable {
    package let link: SuperNodeLink
    /// The gateway's key (the one its certificate binds): it signs every push.
    package let key: SigningIdentity
    package let store: ChainStore
    package let checkpoints: CheckpointStore
    package let config: UplinkConfig
    package let metrics: UplinkMetrics
    package let logger: Logger
    package let clock: @Sendable () -> Int64
    /// Heights of the blocks the archiver stores, as it stores them.
    private let storedHeights: StoredHeights
    /// Signals each change of `view()`, for the dashboard's event stream.
    package let changes = UplinkChanges()
    /// Blocking store reads and checkpoint writes run on this thread.
    private let io: StoreThread
    private let status: Mutex<Status>

    private struct Status {
        var state: UplinkState = .starting
        var advertiseURL: String?
        var lastCheckpointed: UInt64?
        var sealed: UInt64?
        var lastCheckpointAt: Int64?
        var lastError: UplinkView.LastError?
        /// The `gatewayURL` the super node took with a push in this run (nil before the first).
        var announced: String?
        /// What was last logged (state and reason): the next line only when it changes.
        var logged: String?
    }

    private struct Failure: Error {
        enum Kind { case transient, refused }
        var kind: Kind
        var reason: String
        var message: String
        /// How long the super node asked us to wait (429 with Retry-After).
        var retryAfter: Duration? = nil
    }

    package init(
        link: SuperNodeLink,
        key: SigningIdentity,
        store: ChainStore,
        checkpoints: CheckpointStore,
        storedHeights: StoredHeights,
        advertiseURL: String?,
        config: UplinkConfig,
        metrics: UplinkMetrics,
        logger: Logger,
        clock: @escaping @Sendable () -> Int64
    ) {
        self.link = link
        self.key = key
        self.store = store
        self.checkpoints = checkpoints
        self.storedHeights = storedHeights
        self.config = config
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        io = StoreThread(name: "uplink-io")
        status = Mutex(Status(advertiseURL: advertiseURL))
    }

    /// Sets the URL announced in pushes to the server's bound URL, unless `--advertise-url` gave one.
    package func serverBound(url: String) {
        status.withLock { if $0.advertiseURL == nil { $0.advertiseURL = url } }
    }

    /// Stops the uplink's I/O thread.
    package func close() { io.shutdown() }

    /// The `GET /v1/uplink` view.
    package func view() -> UplinkView {
        let s = status.withLock { $0 }
        return UplinkView(
            configured: true,
            state: s.state.rawValue,
            superNode: link.url,
            advertiseURL: s.advertiseURL,
            certificateSerial: link.certificate.certificate.serial,
            rootKey: link.rootKey?.id.hex,
            lastCheckpointedHeight: s.lastCheckpointed,
            sealedHeight: s.sealed,
            unacknowledgedBlocks: Self.unacknowledged(sealed: s.sealed, checkpointed: s.lastCheckpointed),
            lastCheckpointAt: s.lastCheckpointAt,
            lastError: s.lastError
        )
    }

    package static func unacknowledged(sealed: UInt64?, checkpointed: UInt64?) -> UInt64 {
        guard let sealed else { return 0 }
        guard let checkpointed else { return sealed + 1 }
        return sealed > checkpointed ? sealed - checkpointed : 0
    }

    // MARK: the loop

    package func run() async throws {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .gridLedger(connect: config.connectTimeout, read: config.requestTimeout)
        )
        logger.notice(
            "uplink to the super node",
            metadata: [
                "super_node.url": "\(link.url)", "certificate.serial": "\(link.certificate.certificate.serial)",
                "root.key": "\(link.rootKey?.id.hex ?? "fetched from the super node when first reachable")",
            ]
        )
        await cancelWhenGracefulShutdown {
            // The archiver says when a block is stored; the loop waits for that when it has
            // pushed everything, instead of asking the store.
            let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await height in self.storedHeights.updates() {
                        self.record(sealed: height, checkpointed: self.status.withLock { $0.lastCheckpointed })
                        wake.yield()
                    }
                    wake.finish()
                }
                group.addTask { await self.loop(client, wakeUps: wakeUps) }
                await group.next()
                group.cancelAll()
            }
        }
        // A graceful stop (not a cancellation of the whole group): the sealer has stopped
        // and its final block is archived.
        if !Task.isCancelled { await finalPush(client) }
        try? await client.shutdown()
    }

    /// One bounded attempt to push every block still unacknowledged, then a log line with
    /// what is left for the next start.
    private func finalPush(_ client: HTTPClient) async {
        let bound = config.finalPushTimeout
        var problem: String?
        if bound > .zero {
            problem = await withTaskGroup(of: String?.self) { group in
                group.addTask {
                    var resumeFrom: UInt64?
                    do {
                        // `step` answers `.more` while there may be more to push at once.
                        while try await self.step(client, resumeFrom: &resumeFrom) == .more {}
                        return nil
                    } catch let failure as Failure {
                        self.metrics.failure(failure.reason)
                        return "\(failure.reason): \(failure.message)"
                    } catch {
                        return "storage: cannot read the chain store or the checkpoint store: \(error)"
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: bound)
                    return "timeout: the final push did not finish within \(bound.secondsText) s"
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
        } else {
            problem = "no final push (finalPushTimeout is 0)"
        }
        let store = self.store
        let checkpoints = self.checkpoints
        if let heights = try? await io.run({ (try store.tip()?.height, try checkpoints.lastHeight()) }) {
            record(sealed: heights.0, checkpointed: heights.1)
        }
        let s = status.withLock { $0 }
        let left = Self.unacknowledged(sealed: s.sealed, checkpointed: s.lastCheckpointed)
        var metadata: Logger.Metadata = [
            "super_node.url": "\(link.url)", "unacknowledged": "\(left)",
            "block.height": "\(s.sealed.map { "\($0)" } ?? "none")",
            "checkpointed.height": "\(s.lastCheckpointed.map { "\($0)" } ?? "none")",
        ]
        if left == 0 {
            logger.notice("uplink stopped; every sealed block is checkpointed by the super node", metadata: metadata)
        } else {
            if let problem { metadata["detail"] = "\(problem)" }
            logger.warning(
                "uplink stopped with \(left) sealed block(s) not acknowledged by the super node; they are kept and pushed after the next start",
                metadata: metadata
            )
        }
    }

    private func loop(_ client: HTTPClient, wakeUps: AsyncStream<Void>) async {
        var backoff = config.initialBackoff
        var resumeFrom: UInt64?
        var stored = wakeUps.makeAsyncIterator()
        while !Task.isCancelled {
            let delay: Duration?
            do {
                switch try await step(client, resumeFrom: &resumeFrom) {
                case .more: delay = nil
                case let .after(wait): delay = wait
                case .idle:
                    // Nothing more comes once the archiver has stopped.
                    guard await stored.next() != nil else { return }
                    delay = nil
                }
                backoff = config.initialBackoff
            } catch let failure as Failure {
                if Task.isCancelled { break }
                note(failure)
                switch failure.kind {
                case .transient:
                    delay = failure.retryAfter ?? backoff
                    backoff = min(backoff * 2, config.maxBackoff)
                case .refused:
                    delay = config.refusedDelay
                    backoff = config.initialBackoff
                }
            } catch {
                if Task.isCancelled { break }
                note(
                    Failure(
                        kind: .transient,
                        reason: "storage",
                        message: "cannot read the chain store or the checkpoint store: \(error)"
                    )
                )
                delay = backoff
                backoff = min(backoff * 2, config.maxBackoff)
            }
            if let delay {
                do { try await Task.sleep(for: delay) } catch { break }
            }
        }
    }

    /// What the loop does after a round.
    private enum Next: Equatable {
        /// Push again at once: there may be more.
        case more
        /// Every stored block is checkpointed: wait until the archiver stores the next one.
        case idle
        /// Wait this long first (the server has not bound its URL yet).
        case after(Duration)
    }

    /// One round: fetch the root key if needed, push the next batch, store its checkpoints.
    /// Returns what to do next.
    private func step(_ client: HTTPClient, resumeFrom: inout UInt64?) async throws -> Next {
        guard let advertise = status.withLock({ $0.advertiseURL }) else { return .after(.milliseconds(100)) }
        let root: PublicIdentity
        var contacted = false
        if let key = link.rootKey {
            root = key
        } else {
            root = try await fetchRoot(client)
            contacted = true
        }
        let store = self.store
        let checkpoints = self.checkpoints
        let (tip, last) = try await io.run { (try store.tip()?.height, try checkpoints.lastHeight()) }
        record(sealed: tip, checkpointed: last)
        var next = last.map { $0 + 1 } ?? 0
        if let r = resumeFrom, r < next { next = r } else { resumeFrom = nil }
        guard let tip, next <= tip else {
            if let last, status.withLock({ $0.announced != advertise }) {
                // Nothing to push, but the super node has not heard this run's URL yet (a
                // restart on another port, a new --advertise-url): it would keep sending
                // escalated dispatches to the old one until the next block is sealed.
                if let expected = try await announce(client, height: last, advertise: advertise) {
                    logger.warning(
                        "the super node expects an earlier block; pushing again from there",
                        metadata: [
                            "reason": "gap", "block.height": "\(expected)",
                        ]
                    )
                    metrics.failure("gap")
                    resumeFrom = expected
                    return .more
                }
                contacted = true
            }
            if contacted { setConnected() }
            return .idle
        }

        let maxBlocks = config.maxBlocks
        let maxBytes = config.maxBytes
        let first = next
        let batch = try await io.run { () -> [(header: SignedBlockHeader, wire: [UInt8])] in
            var batch: [(header: SignedBlockHeader, wire: [UInt8])] = []
            var bytes = 0
            var height = first
            while height <= tip, batch.count < maxBlocks, let block = try store.block(atHeight: height) {
                let wire = block.wireBytes()
                if !batch.isEmpty && bytes + wire.count > maxBytes { break }
                batch.append((block.header, wire))
                bytes += wire.count
                height += 1
            }
            return batch
        }
        guard !batch.isEmpty else { return .idle }
        let reply = try await push(client, batch.map(\.wire), advertise: advertise)
        let answer = reply.body

        // Every checkpoint answers the block at the same position of the push.
        var stored: [UInt64] = []
        let now = clock()
        for (position, item) in answer.checkpoints.enumerated() {
            guard position < batch.count, let bytes = Data(base64Encoded: item.checkpoint),
                let signed = try? SignedCheckpoint(bytes: Array(bytes))
            else {
                throw Failure(
                    kind: .refused,
                    reason: "bad-checkpoint",
                    message:
                        "the super node answered block \(batch[min(position, batch.count - 1)].header.header.height) with a checkpoint that does not decode"
                )
            }
            let header = batch[position].header
            do {
                try await io.run { try checkpoints.store(signed, for: header, root: root, at: now) }
            } catch let refusal as CheckpointRefusal {
                throw Failure(
                    kind: .refused,
                    reason: "bad-checkpoint",
                    message: "refused the super node's checkpoint: \(refusal.description); it was not stored"
                )
            }
            stored.append(header.header.height)
            metrics.checkpointed.increment()
            logger.debug(
                "checkpoint stored",
                metadata: ["block.height": "\(header.header.height)", "block.hash": "\(header.hash.hex)"]
            )
        }
        if let high = stored.last {
            let newLast = max(high, last ?? high)
            status.withLock { $0.lastCheckpointAt = now }
            record(sealed: tip, checkpointed: newLast)
            logger.info(
                "blocks checkpointed by the super node",
                metadata: [
                    "block.height": "\(stored.first!)…\(high)", "blocks": "\(stored.count)",
                    "unacknowledged": "\(Self.unacknowledged(sealed: tip, checkpointed: newLast))",
                ]
            )
            if let r = resumeFrom { resumeFrom = r + UInt64(stored.count) }
        }
        if let rejected = answer.rejected {
            if rejected.reason == "gap", let expected = rejected.expectedHeight, expected < next + UInt64(stored.count)
            {
                // The super node holds fewer blocks than our checkpoints say (restored from a
                // copy?): push again from the height it expects.
                logger.warning(
                    "the super node expects an earlier block; pushing again from there",
                    metadata: [
                        "reason": "gap", "block.height": "\(expected)", "detail": "\(rejected.message)",
                    ]
                )
                metrics.failure("gap")
                resumeFrom = expected
                return .more
            }
            let kind: Failure.Kind = reply.status >= 500 ? .transient : .refused
            throw Failure(kind: kind, reason: rejected.reason, message: rejected.message)
        }
        status.withLock { $0.announced = advertise }
        setConnected()
        return .more
    }

    /// Announces `advertise` by pushing the already checkpointed block at `height` again: the
    /// super node answers the block as a replay (its stored checkpoint, already kept here, so
    /// nothing is stored) and, the push being signed and accepted, records the URL. Returns the
    /// height to push again from when the super node holds fewer blocks (`gap`).
    private func announce(_ client: HTTPClient, height: UInt64, advertise: String) async throws -> UInt64? {
        let store = self.store
        guard let block = try await io.run({ try store.block(atHeight: height) }) else { return nil }
        let reply = try await push(client, [block.wireBytes()], advertise: advertise)
        let answer = reply.body
        if let rejected = answer.rejected {
            if rejected.reason == "gap", let expected = rejected.expectedHeight, expected < height {
                status.withLock { $0.announced = advertise }
                return expected
            }
            let kind: Failure.Kind = reply.status >= 500 ? .transient : .refused
            throw Failure(kind: kind, reason: rejected.reason, message: rejected.message)
        }
        status.withLock { $0.announced = advertise }
        logger.info(
            "gateway URL announced to the super node",
            metadata: ["url": "\(advertise)", "block.height": "\(height)"]
        )
        return nil
    }

    // MARK: HTTP

    /// `POST /v1/blocks`, signed with the gateway's key: any answer in the push answer's
    /// shape, refusals included.
    private func push(_ client: HTTPClient, _ blocks: [[UInt8]], advertise: String) async throws -> Answer<PushResponse>
    {
        let body = PushRequest(
            certificate: Data(link.certificate.bytes).base64EncodedString(),
            gatewayURL: advertise,
            blocks: blocks.map { Data($0).base64EncodedString() }
        )
        do throws(GridAPIError) {
            return try await link.client(client).push(
                body,
                signer: RequestSigner(key: key, clock: clock),
                timeout: config.requestTimeout
            )
        } catch {
            throw failure(error)
        }
    }

    /// `GET /v1/root`: the key is trusted only if it is the certificate's issuer (and the
    /// certificate verifies under it); then it is kept in the data directory.
    private func fetchRoot(_ client: HTTPClient) async throws -> PublicIdentity {
        let answer: RootView
        do throws(GridAPIError) {
            answer = try await link.client(client).root(timeout: config.requestTimeout)
        } catch {
            throw failure(error)
        }
        guard let key = try? KeyFile.parsePublicKeyLine(answer.publicKey).identity else {
            throw Self.undecodable(
                status: 200,
                data: (try? JSONEncoder().encode(answer)) ?? Data(),
                url: SuperNodeClient(base: link.url).url(SuperNodeRoutes.root)
            )
        }
        if let problem = link.problem(with: key) {
            throw Failure(
                kind: .refused,
                reason: "untrusted-root",
                message:
                    "the super node at \(link.url) serves root key \(key.id.hex), which is not the issuer of this gateway's certificate: \(problem). Check --super-node, or get a certificate from this super node"
            )
        }
        let link = self.link
        do { try await io.run { try link.keep(key) } } catch {
            throw Failure(kind: .transient, reason: "storage", message: "\(error)")
        }
        logger.notice(
            "super node root key verified and kept",
            metadata: ["root.key": "\(key.id.hex)", "file": "\(link.rootKeyPath)"]
        )
        return key
    }

    /// The uplink's failure for a call that got no usable answer.
    private func failure(_ error: GridAPIError) -> Failure {
        switch error {
        case .transport(let url, let error):
            let failed = link.url
            let next = link.moveOn(from: url)
            return Failure(
                kind: .transient,
                reason: "unreachable",
                message: "cannot reach the super node at \(failed): \(error)"
                    + (next.map { "; the next push goes to \($0)" } ?? "")
            )
        case .status(429, let url, let reason, let detail, _, let retryAfter):
            return Failure(
                kind: .transient,
                reason: reason ?? "rate-limited",
                message: "\(url) asked the gateway to slow down (HTTP 429): \(detail ?? "no detail")",
                retryAfter: retryAfter
            )
        case .status(let status, let url, _, _, let body, _), .undecodable(let status, let url, let body):
            return Self.undecodable(status: status, data: body, url: url)
        }
    }

    private static func undecodable(status: Int, data: Data, url: String) -> Failure {
        let text = String(decoding: data.prefix(200), as: UTF8.self)
        if (400..<500).contains(status) {
            return Failure(
                kind: .refused,
                reason: "bad-response",
                message:
                    "\(url) answered HTTP \(status) that is not a super node's answer (\(text)); check --super-node"
            )
        }
        return Failure(
            kind: .transient,
            reason: "bad-response",
            message: "\(url) answered HTTP \(status) with a body that is not a super node's answer (\(text))"
        )
    }

    // MARK: state

    private func record(sealed: UInt64?, checkpointed: UInt64?) {
        let changed = status.withLock { s -> Bool in
            defer {
                s.sealed = sealed
                s.lastCheckpointed = checkpointed
            }
            return s.sealed != sealed || s.lastCheckpointed != checkpointed
        }
        if changed { changes.publish() }
        metrics.checkpointedHeight.set(checkpointed.map { Double($0) } ?? -1)
        metrics.unacknowledged.set(Double(Self.unacknowledged(sealed: sealed, checkpointed: checkpointed)))
    }

    private func setConnected() {
        let (previous, unacknowledged) = status.withLock { s -> (UplinkState, UInt64) in
            defer {
                s.state = .connected
                s.logged = "connected"
            }
            return (
                s.logged == "connected" ? .connected : s.state,
                Self.unacknowledged(sealed: s.sealed, checkpointed: s.lastCheckpointed)
            )
        }
        guard previous != .connected else { return }
        changes.publish()
        let message =
            previous == .starting ? "connected to the super node" : "the super node accepts pushes again; catching up"
        logger.notice("\(message)", metadata: ["super_node.url": "\(link.url)", "unacknowledged": "\(unacknowledged)"])
    }

    private func note(_ failure: Failure) {
        metrics.failure(failure.reason)
        let now = clock()
        let key = "\(failure.kind)|\(failure.reason)"
        let (changed, unacknowledged) = status.withLock { s -> (Bool, UInt64) in
            s.state = failure.kind == .transient ? .retrying : .refused
            s.lastError = .init(reason: failure.reason, message: failure.message, at: now, time: isoTime(now))
            defer { s.logged = key }
            return (s.logged != key, Self.unacknowledged(sealed: s.sealed, checkpointed: s.lastCheckpointed))
        }
        guard changed else { return }
        changes.publish()
        var metadata: Logger.Metadata = [
            "super_node.url": "\(link.url)", "reason": "\(failure.reason)", "unacknowledged": "\(unacknowledged)",
        ]
        switch failure.kind {
        case .transient:
            metadata["detail"] = "\(failure.message)"
            logger.warning(
                "cannot push blocks to the super node; they wait and go in order once it is back (retrying every \(config.initialBackoff.secondsText)…\(config.maxBackoff.secondsText) s)",
                metadata: metadata
            )
        case .refused:
            var hint = "blocks are kept and pushed again every \(config.refusedDelay.secondsText) s"
            if [
                "revoked-certificate", "unknown-certificate", "untrusted-certificate", "missing-certificate",
                "malformed-certificate",
            ].contains(failure.reason) {
                hint += "; if the super node issues a new certificate, restart the gateway with --certificate NEWFILE"
            } else if failure.reason == "stale-request" {
                hint += "; this machine's clock must be within minutes of the super node's (run NTP)"
            } else if failure.reason == "future-timestamp" {
                hint +=
                    "; the block was sealed while this machine's clock was ahead of the super node's (run NTP): the super node takes it, and the blocks after it, once its own clock catches up with the block's time"
            }
            logger.error(
                "the super node refused the push (\(failure.reason)): \(failure.message); \(hint)",
                metadata: metadata
            )
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    package var wholeMilliseconds: Int64 {
        let (s, atto) = components
        return s * 1000 + atto / 1_000_000_000_000_000
    }

    /// Seconds, for log lines (`0.5`, `30`).
    package var secondsText: String {
        let ms = wholeMilliseconds
        return ms % 1000 == 0 ? "\(ms / 1000)" : String(format: "%.1f", Double(ms) / 1000)
    }
}

import Executors
import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import OperatorKit

/// The single writer of the chain: checks batches against the chain rules, journals what
/// it accepts before answering, feeds the block builder and appends sealed blocks.
/// Runs on a thread of its own because every call ends in blocking SQLite I/O.
package actor ChainWriter {
    package nonisolated let store: ChainStore
    package nonisolated let journal: PendingJournal
    /// The OCMF strings whose commitments are on the chain (written before the journal).
    package nonisolated let ocmfArchive: OCMFArchive
    package nonisolated let gatewayKey: SigningIdentity
    package nonisolated let keys = KeyDirectory()
    package nonisolated let config: ChainWriterConfig
    package nonisolated let metrics: GatewayMetrics
    package nonisolated let logger: Logger
    package nonisolated let rejections: RateLimitedLog
    package nonisolated let clock: @Sendable () -> Int64
    /// Appends sealed blocks to the store off this thread.
    package nonisolated let archiver: BlockArchiver
    private let executor: DedicatedThreadExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    // Internal (not private) so the trading and escalation extensions can use them.
    package var builder: BlockBuilder
    package var meters: [MeterID: MeterInfo] = [:]
    package var pending: [PendingEntry] = []
    private var pendingReadings: [ReadingKey: [UInt8]] = [:]
    var detector: AnomalyDetector
    /// Each meter's last recorded offer and request (resent copies are duplicates).
    package var lastTrades: [TradeKey: LastTrade] = [:]
    /// Escalation records on the chain (either side), by decision id: a decision sent again
    /// is answered with the record already committed.
    package var escalations: [UInt64: SignedRecord] = [:]
    /// The last refused (nothing to credit) offer of each producer that was recorded as an
    /// anomaly: resent copies and a stream of such offers add at most one every 10 minutes.
    package var refusedOfferEvidence: [MeterID: (sequence: UInt64, time: Int64)] = [:]
    package static let refusedOfferEvidenceIntervalMs: Int64 = 600_000
    /// Set when the writer could not resume from the store and the journal: every write
    /// is refused (`retry`, reason storage) until a restart.
    package var halted: String?
    /// When resuming after a failed block append was last tried (ms).
    private var lastResumeAttempt: Int64?
    /// Entries below this index are in the store (the archiver's `stored` events say so).
    private var archivedTreeSize: UInt64
    /// Entries sealed since the last block handed over with a resume snapshot.
    private var entriesSinceSnapshot: UInt64 = 0
    /// Why the archiver's current generation could not append a block; cleared by `reload`.
    private var archiveFailure: String?
    /// `sealNow` calls waiting until the store holds entries below a tree size.
    private var archiveWaiters: [(treeSize: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    package static let resumeIntervalMs: Int64 = 5000
    /// Enrolled and not revoked (the gauge; counting `meters` each time is O(n)).
    private var activeMeterCount = 0
    package var tradesWaiting: [(id: UInt64, item: TradeItem)] = []
    package var tradesFinished: [UInt64: TradeAnswer] = [:]
    package var nextTradeID: UInt64 = 0
    private var seen: Set<MeterID> = []

    package struct ReadingKey: Hashable, Sendable {
        package var meter: MeterID
        package var sequence: UInt64
    }

    /// Opens the store and journal in `directory` and resumes from the store's resume snapshot
    /// (`load`).
    /// Blocking: the work runs on the writer's own thread.
    package static func open(
        directory: DataDirectory,
        key: SigningIdentity,
        config: ChainWriterConfig,
        logger: Logger,
        metrics: GatewayMetrics = GatewayMetrics(),
        clock: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
    ) async throws -> ChainWriter {
        let executor = DedicatedThreadExecutor(name: "chain-writer")
        do {
            let writer = try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ChainWriter, Error>) in
                let job = UnsafeSendableBox {
                    continuation.resume(
                        with: Result {
                            try ChainWriter(
                                directory: directory,
                                key: key,
                                config: config,
                                logger: logger,
                                metrics: metrics,
                                clock: clock,
                                executor: executor
                            )
                        }
                    )
                }
                Thread.detachNewThread { job.body() }
            }
            await writer.startFollowingArchiver()
            return writer
        } catch {
            executor.shutdown()
            throw error
        }
    }

    private init(
        directory: DataDirectory,
        key: SigningIdentity,
        config: ChainWriterConfig,
        logger: Logger,
        metrics: GatewayMetrics,
        clock: @escaping @Sendable () -> Int64,
        executor: DedicatedThreadExecutor
    ) throws {
        self.executor = executor
        self.gatewayKey = key
        self.config = config
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
        // Rejections are rate-limited on the gateway's own clock, so a test's hand-moved
        // clock (not the machine's load) decides what falls in one window.
        let started = (instant: ContinuousClock.now, ms: clock())
        self.rejections = RateLimitedLog(logger: logger, interval: .seconds(10)) {
            started.instant + .milliseconds(clock() - started.ms)
        }
        do {
            store = try ChainStore(path: directory.chainPath, check: .none)
            journal = try PendingJournal(path: directory.journalPath)
            ocmfArchive = try OCMFArchive(path: directory.ocmfPath)
        } catch {
            throw ChainResumeError.storeUnavailable(directory: directory.path, underlying: "\(error)")
        }
        let state = try Self.load(store: store, journal: journal, key: key, config: config, logger: logger)
        archiver = BlockArchiver(
            store: store,
            journal: journal,
            storedHeight: state.builder.tip?.height,
            memory: state.memory,
            metrics: metrics,
            logger: logger
        )
        archivedTreeSize = state.builder.tip?.treeSize ?? 0
        entriesSinceSnapshot = state.entriesSinceSnapshot
        builder = state.builder
        meters = state.meters
        pending = state.pending
        pendingReadings = state.pendingReadings
        detector = state.detector
        lastTrades = state.lastTrades
        escalations = state.escalations
        for info in meters.values { keys.set(info.key) }
        metrics.pending.set(Double(builder.pendingCount))
        metrics.height.set(builder.tip.map { Double($0.height) } ?? -1)
        activeMeterCount = meters.values.filter(\.active).count
        metrics.metersEnrolled.set(Double(activeMeterCount))
    }

    /// Stops the archiver (after the blocks already submitted) and, once `followArchiver` has
    /// seen its end, the writer thread (after its queued work): the thread's last job is the
    /// one that releases the writer, so nothing keeps it and its open files alive. Blocking,
    /// until the archiver has written its last block. A block sealed by work still queued is
    /// not archived; the journal holds it.
    package nonisolated func close() {
        archiver.shutdown()
    }

    /// Starts `followArchiver` as a task of this actor (it runs on the writer's thread).
    private func startFollowingArchiver() {
        Task { await followArchiver() }
    }

    /// Learns from the archiver what is stored (and forgets those pending entries) or that an
    /// append failed (the next write or seal then resumes from the store and the journal).
    /// Runs on the writer's thread until the archiver stops, then stops that thread.
    private func followArchiver() async {
        for await event in archiver.events {
            switch event {
            case let .stored(treeSize):
                archivedTreeSize = max(archivedTreeSize, treeSize)
                if let first = pending.first, first.index < treeSize { dropSealed(below: treeSize) }
            case let .failed(generation, reason):
                // A failure reported before the last resume is already dealt with.
                guard generation == archiver.generation else { continue }
                archiveFailure = reason
            }
            resumeArchiveWaiters(all: false)
        }
        resumeArchiveWaiters(all: true)
        // The archiver has stopped (`close`): the writer's thread ends after what is queued.
        executor.shutdown()
    }

    /// Returns once every sealed block is in the store and its entries are no longer pending
    /// here, or an append failed, the writer resumed, or the archiver stopped.
    package func waitUntilStored() async {
        let treeSize = builder.tip?.treeSize ?? 0
        guard archivedTreeSize < treeSize, archiveFailure == nil else { return }
        await withCheckedContinuation { archiveWaiters.append((treeSize, $0)) }
    }

    private func resumeArchiveWaiters(all: Bool) {
        let done = all || archiveFailure != nil
        archiveWaiters.removeAll { waiter in
            guard done || waiter.treeSize <= archivedTreeSize else { return false }
            waiter.continuation.resume()
            return true
        }
    }

    // MARK: loading

    package struct Loaded {
        package var builder: BlockBuilder
        /// The writer's memory of the entries in the store (not the journal's): the archiver
        /// goes on from it.
        package var memory = ResumeMemory()
        /// Entries in the store after its resume snapshot (`ChainWriterConfig.snapshotEntries`).
        package var entriesSinceSnapshot: UInt64 = 0
        package var meters: [MeterID: MeterInfo] = [:]
        package var pending: [PendingEntry] = []
        package var pendingReadings: [ReadingKey: [UInt8]] = [:]
        package var detector = AnomalyDetector()
        package var lastTrades: [TradeKey: LastTrade] = [:]
        package var escalations: [UInt64: SignedRecord] = [:]

        init(builder: BlockBuilder, memory: ResumeMemory, entriesSinceSnapshot: UInt64, limits: AnomalyLimits) {
            self.builder = builder
            self.memory = memory
            self.entriesSinceSnapshot = entriesSinceSnapshot
            meters = memory.meters
            detector = memory.detector(limits: limits)
            lastTrades = memory.lastTrades
            escalations = memory.escalations
        }
    }

    /// Resumes a builder from the store's resume snapshot (checked against the tip's signed
    /// header; a store without one is verified in full once and gets one), and replays the
    /// journal into it.
    package static func load(
        store: ChainStore,
        journal: PendingJournal,
        key: SigningIdentity,
        config: ChainWriterConfig,
        logger: Logger
    ) throws -> Loaded {
        let policy = SealPolicy(maxEntries: config.sealSize, maxAgeMilliseconds: config.sealIntervalMs)
        var loaded: Loaded
        do {
            if let row = try store.resumeSnapshot() {
                let resumed = try restore(store: store, row: row, gatewayKey: key.publicIdentity)
                loaded = Loaded(
                    builder: try BlockBuilder(gateway: key, policy: policy, resuming: resumed.snapshot.chain),
                    memory: resumed.snapshot.memory,
                    entriesSinceSnapshot: resumed.entriesSinceSnapshot,
                    limits: config.anomalyLimits
                )
            } else if try store.tip() == nil {
                loaded = Loaded(
                    builder: BlockBuilder(gateway: key, policy: policy),
                    memory: ResumeMemory(),
                    entriesSinceSnapshot: 0,
                    limits: config.anomalyLimits
                )
            } else {
                logger.notice(
                    "the chain store has no resume snapshot (written by an earlier version): verifying the whole chain once, then writing one",
                    metadata: ["path": "\(store.path)"]
                )
                let verified: VerifiedChain
                do {
                    verified = try ChainVerifier(gatewayKey: key.publicIdentity).verify(store)
                } catch let failure as VerificationFailure {
                    throw ChainResumeError.chainDoesNotVerify(path: store.path, failure)
                }
                let builder = try BlockBuilder(gateway: key, policy: policy, resuming: verified)
                let memory = try rebuildMemory(store: store, state: verified.state)
                if let chain = builder.snapshot {
                    try store.saveResumeSnapshot(
                        ResumeSnapshot(chain: chain, memory: memory).encoded(),
                        height: chain.tip.height
                    )
                    logger.notice(
                        "wrote the resume snapshot; later start-ups resume from it",
                        metadata: ["path": "\(store.path)", "block.height": "\(chain.tip.height)"]
                    )
                }
                loaded = Loaded(builder: builder, memory: memory, entriesSinceSnapshot: 0, limits: config.anomalyLimits)
            }
        } catch let error as BuilderError {
            throw ChainResumeError.keyDoesNotMatchChain(error)
        }

        // Replay what was acknowledged but not sealed.
        let tree = loaded.builder.tree.size
        let journaled = try journal.entries()
        if journaled.contains(where: { $0.index < tree }) { try journal.removeEntries(below: tree) }
        var replayed = 0
        for item in journaled where item.index >= tree {
            guard item.index == loaded.builder.tree.size else {
                throw ChainResumeError.journalSkips(
                    path: journal.path,
                    expected: loaded.builder.tree.size,
                    found: item.index
                )
            }
            let entry: SignedRecord
            do { entry = try SignedRecord(bytes: item.bytes) } catch {
                throw ChainResumeError.journalUndecodable(path: journal.path, index: item.index, underlying: "\(error)")
            }
            let sealed: Block?
            do { sealed = try loaded.builder.add(entry, at: item.time) } catch {
                throw ChainResumeError.journalRefused(path: journal.path, index: item.index, error)
            }
            loaded.pending.append(PendingEntry(index: item.index, time: item.time, entry: entry))
            loaded.note(entry)
            if let sealed {
                for entry in sealed.entries { loaded.memory.note(entry) }
                let chain = config.snapshotChain(
                    of: loaded.builder,
                    after: sealed,
                    entriesSinceSnapshot: &loaded.entriesSinceSnapshot
                )
                try store.append(
                    sealed,
                    snapshot: chain.map { ResumeSnapshot(chain: $0, memory: loaded.memory).encoded() }
                )
                try journal.removeEntries(below: sealed.header.header.treeSize)
                loaded.dropSealed(below: sealed.header.header.treeSize)
            }
            replayed += 1
        }
        if replayed > 0 {
            logger.notice(
                "replayed acknowledged entries from the pending journal",
                metadata: ["entries": "\(replayed)"]
            )
        }
        return loaded
    }

    /// The store's resume snapshot `row`, checked against the signed header of the block it
    /// was taken after and moved past the blocks stored since (each checked the same way), so
    /// it is the state after the store's tip.
    /// - Returns: that snapshot, and how many entries the store holds after `row`'s block.
    /// - Throws: `ChainResumeError.snapshotDisagrees` naming what disagrees.
    package static func restore(
        store: ChainStore,
        row: ChainStore.ResumeSnapshotRow,
        gatewayKey: PublicIdentity
    ) throws -> (snapshot: ResumeSnapshot, entriesSinceSnapshot: UInt64) {
        func disagrees(_ what: String) -> ChainResumeError { .snapshotDisagrees(path: store.path, what) }
        var snapshot: ResumeSnapshot
        do { snapshot = try ResumeSnapshot(bytes: row.bytes) } catch { throw disagrees("it does not decode: \(error)") }
        guard snapshot.chain.state.gatewayKey == gatewayKey else {
            throw ChainResumeError.keyDoesNotMatchChain(
                .wrongGateway(chain: snapshot.chain.state.gatewayKey.id, builder: gatewayKey.id)
            )
        }
        guard snapshot.chain.tip.height == row.height else {
            throw disagrees("its row names block \(row.height), its bytes block \(snapshot.chain.tip.height)")
        }
        let header: SignedBlockHeader?
        do { header = try store.header(atHeight: row.height) } catch let error as RecordDecodingError {
            throw disagrees("block \(row.height)'s header does not decode: \(error)")
        }
        guard let tip = try store.tip(), let header, tip.height >= row.height else {
            throw disagrees("it is taken after block \(row.height), which is not in the store")
        }
        if let problem = snapshot.chain.disagreement(with: header) { throw disagrees(problem) }
        let base = snapshot.chain.tip.treeSize
        var height = row.height
        var version = header.header.version
        while height < tip.height {
            height += 1
            let stored: Block?
            do { stored = try store.block(atHeight: height) } catch let error as RecordDecodingError {
                throw disagrees("block \(height) does not decode: \(error)")
            }
            guard let block = stored else { throw disagrees("block \(height) is missing") }
            // A chain's header versions never decrease (the verifier's rule too).
            guard block.header.header.version >= version else {
                throw disagrees("block \(height) has header version \(block.header.header.version), below \(version)")
            }
            version = block.header.header.version
            if let problem = snapshot.chain.extend(with: block) { throw disagrees(problem) }
            for entry in block.entries { snapshot.memory.note(entry) }
            if height == tip.height, let problem = snapshot.chain.disagreement(with: block.header) {
                throw disagrees(problem)
            }
        }
        if snapshot.chain.tip.treeSize != tip.treeSize {
            throw disagrees(
                "the store's tip holds \(tip.treeSize) entries, the snapshot \(snapshot.chain.tip.treeSize)"
            )
        }
        let orphans = try store.orphanEntries()
        if orphans.count > 0 {
            throw disagrees(
                "\(orphans.count) entries are stored beyond the last block (from entry \(orphans.firstIndex ?? 0))"
            )
        }
        return (snapshot, tip.treeSize - base)
    }

    /// The writer's memory of every entry in the store, read from the whole chain (entries of
    /// the types it needs, each meter's latest reading); `state` is the verified state at the
    /// store's tip. What a resume snapshot's memory must equal.
    package static func rebuildMemory(store: ChainStore, state: ChainState) throws -> ResumeMemory {
        var memory = ResumeMemory()
        for type in [RecordType.enrollment, .revocation, .anomaly, .offer, .request, .escalation] {
            var from: UInt64 = 0
            while true {
                let page = try store.entries(ofType: type, fromIndex: from, limit: 1000)
                for stored in page { memory.note(stored.entry) }
                guard let last = page.last else { break }
                from = last.index + 1
            }
        }
        // Entries are applied by type above, so enrollment order vs revocation order must be
        // fixed from the chain state itself.
        for id in memory.meters.keys {
            memory.meters[id]?.active = state.tnt.status(of: id)?.active ?? false
            let last = state.nextReadingSequence(of: id) - 1
            if last > 0, let stored = try store.reading(meter: id, sequence: last),
                case let .reading(r) = stored.entry.record
            {
                memory.meters[id]?.lastReading = r
            }
        }
        return memory
    }

    /// What `edge-gateway verify` says of the stored resume snapshot.
    package enum SnapshotCheck: Sendable, Equatable {
        /// The store has none (written by an earlier version; the next start-up writes one).
        case missing
        /// Restored and moved to the tip, it equals the state replayed from the whole chain.
        case matches(height: UInt64)
        /// What disagrees.
        case differs(String)
    }

    /// Checks the store's resume snapshot against `verified`, the whole chain replayed: the
    /// snapshot restored as start-up does must equal the state rebuilt from every entry.
    package static func checkResumeSnapshot(store: ChainStore, verified: VerifiedChain) throws -> SnapshotCheck {
        guard let row = try store.resumeSnapshot() else { return .missing }
        let restored: ResumeSnapshot
        do { restored = try restore(store: store, row: row, gatewayKey: verified.state.gatewayKey).snapshot } catch let
            error as ChainResumeError
        {
            guard case let .snapshotDisagrees(path, what) = error else { return .differs(error.description) }
            return .differs("the resume snapshot in \(path) disagrees with the chain: \(what)")
        }
        guard let tip = verified.tip else {
            return .differs("the snapshot names block \(row.height) of an empty chain")
        }
        let replayed = ResumeSnapshot(
            chain: ChainSnapshot(tip: tip, tree: verified.tree, state: verified.state),
            memory: try rebuildMemory(store: store, state: verified.state)
        )
        if let part = restored.difference(from: replayed) {
            return .differs(
                "the resume snapshot in \(store.path) (block \(row.height)) differs from the replayed chain in its \(part)"
            )
        }
        return .matches(height: row.height)
    }

    // MARK: ingest

    private var waiting: [(id: UInt64, batch: [PreparedRecord])] = []
    private var finished: [UInt64: [IngestResult]] = [:]
    private var nextBatchID: UInt64 = 0

    /// Applies the chain rules to a prepared batch, journals what is accepted (one durable
    /// transaction) and only then returns the results.
    ///
    /// Group commit: a batch first yields, so batches from other requests that are already
    /// waiting for the writer join it; the first to resume checks them all in arrival order
    /// and writes them in one journal transaction (one fsync for the group).
    package func ingest(_ prepared: [PreparedRecord]) async -> [IngestResult] {
        let id = nextBatchID
        nextBatchID += 1
        waiting.append((id, prepared))
        await Task.yield()
        if let done = finished.removeValue(forKey: id) { return done }
        let group = waiting
        waiting.removeAll()
        let all = process(group.flatMap(\.batch))
        var offset = 0
        for item in group {
            finished[item.id] = Array(all[offset..<offset + item.batch.count])
            offset += item.batch.count
        }
        return finished.removeValue(forKey: id) ?? []
    }

    /// Checks records in order against the chain rules and journals the accepted ones
    /// (with any anomaly records) in one transaction; one result per record, in order.
    private func process(_ prepared: [PreparedRecord], source: String? = nil) -> [IngestResult] {
        resumeAfterArchiveFailure()
        if let halted {
            return prepared.map {
                IngestResult(index: $0.index, status: .retry, reason: .storage, detail: Self.haltedDetail(halted))
            }
        }
        let now = clock()
        var results: [IngestResult] = []
        results.reserveCapacity(prepared.count)
        var group = CommitGroup(base: builder.tree.size)
        var acceptedResults: [Int] = []
        var findings: [AnomalyFinding] = []

        func reject(_ index: Int, _ reason: IngestReason, _ detail: String, meter: String?, sequence: UInt64?) {
            results.append(
                IngestResult(
                    index: index,
                    status: .rejected,
                    meter: meter,
                    sequence: sequence,
                    reason: reason,
                    detail: detail
                )
            )
        }

        for p in prepared {
            switch p.outcome {
            case let .rejected(reason, detail, meter, sequence):
                reject(p.index, reason, detail, meter: meter, sequence: sequence)
            case let .reading(entry, r, signatureValid):
                let m = r.meter
                let hex = m.hex
                // Who may sign it is the chain's rule (LedgerLite's ChainState); the answer
                // names the rule the reading broke.
                let key: PublicIdentity
                do { key = try builder.state.signingKey(for: entry) } catch {
                    let (reason, detail) = Self.refusal(of: error, reading: r)
                    reject(p.index, reason, detail, meter: hex, sequence: r.sequence)
                    continue
                }
                guard signatureValid ?? entry.isSignatureValid(by: key) else {
                    reject(
                        p.index,
                        .badSignature,
                        "the signature does not verify over the record's bytes with meter \(hex)'s enrolled key (altered or forged)",
                        meter: hex,
                        sequence: r.sequence
                    )
                    if let f = detector.badSignature(meter: m, at: now, evidence: Hash256.sha256(entry.bytes)) {
                        findings.append(f)
                    }
                    continue
                }
                do { _ = try builder.state.admit(entry) } catch {
                    switch error {
                    case let .sequenceReplay(_, _, found):
                        let key = ReadingKey(meter: m, sequence: found)
                        // The accepted reading's SHA-256: from its bytes, or, once it was
                        // archived and pruned, from the digest the store keeps of it.
                        let accepted: Hash256?
                        do {
                            if let bytes = try pendingReadings[key]
                                ?? store.reading(meter: m, sequence: found)?.entry
                                .bytes
                            {
                                accepted = Hash256.sha256(bytes)
                            } else {
                                accepted = try store.archivedReading(meter: m, sequence: found)?.digest
                            }
                        } catch {
                            // Without the stored reading, a duplicate cannot be told from an
                            // equivocation: defer rather than accuse the meter.
                            logger.error(
                                "cannot read the chain store to check a repeated reading",
                                metadata: [
                                    "meter.id": "\(hex)", "reading.seq": "\(r.sequence)", "error": "\(error)",
                                ]
                            )
                            results.append(
                                IngestResult(
                                    index: p.index,
                                    status: .retry,
                                    meter: hex,
                                    sequence: r.sequence,
                                    reason: .storage,
                                    detail: "the gateway cannot read its chain store; send again later"
                                )
                            )
                            continue
                        }
                        if accepted == Hash256.sha256(entry.bytes) {
                            results.append(
                                IngestResult(
                                    index: p.index,
                                    status: .duplicate,
                                    meter: hex,
                                    sequence: r.sequence,
                                    detail: "reading \(r.sequence) was already accepted; not stored twice"
                                )
                            )
                        } else {
                            reject(
                                p.index,
                                .conflictingDuplicate,
                                "meter \(hex) already has an accepted reading \(r.sequence) with other bytes; an equivocation anomaly was recorded",
                                meter: hex,
                                sequence: r.sequence
                            )
                            if let f = detector.equivocation(
                                meter: m,
                                sequence: r.sequence,
                                evidence: Hash256.sha256(entry.bytes),
                                accepted: accepted ?? .zero
                            ) {
                                findings.append(f)
                            }
                        }
                    case let .sequenceGap(_, expected, found):
                        reject(
                            p.index,
                            .sequenceGap,
                            "expected sequence \(expected) for meter \(hex), got \(found): send readings \(expected)…\(found - 1) first",
                            meter: hex,
                            sequence: r.sequence
                        )
                        if let f = detector.sequenceGap(
                            meter: m,
                            expected: expected,
                            found: found,
                            evidence: Hash256.sha256(entry.bytes)
                        ) {
                            findings.append(f)
                        }
                    case let .readingForOtherGateway(_, _, named, _):
                        let (reason, detail) = Self.refusal(of: error, reading: r)
                        reject(p.index, reason, detail, meter: hex, sequence: r.sequence)
                        if let f = detector.foreignReading(
                            meter: m,
                            sequence: r.sequence,
                            named: named,
                            evidence: Hash256.sha256(entry.bytes)
                        ) {
                            findings.append(f)
                        }
                    default:
                        let (reason, detail) = Self.refusal(of: error, reading: r)
                        reject(p.index, reason, detail, meter: hex, sequence: r.sequence)
                    }
                    continue
                }
                if let refusal = config.readingVersions.refusal(of: r, now: now) {
                    reject(p.index, .retiredReadingVersion, refusal, meter: hex, sequence: r.sequence)
                    continue
                }
                let previous = meters[m]?.lastReading
                if let refusal = ClockPolicy(maxSkewMs: config.maxSkewMs).refusal(
                    ofReading: r,
                    previous: previous,
                    now: now
                ) {
                    reject(p.index, .timestampSkew, refusal, meter: hex, sequence: r.sequence)
                    continue
                }
                if let refusal = ValueRange.refusal(of: r) {
                    reject(p.index, .implausibleValue, refusal, meter: hex, sequence: r.sequence)
                    continue
                }
                do { try stage(entry, at: now, in: &group) } catch {
                    // Not reachable: the chain's own admission check passed just above.
                    reject(
                        p.index,
                        .malformed,
                        "the chain refuses the reading: \(error)",
                        meter: hex,
                        sequence: r.sequence
                    )
                    continue
                }
                findings += detector.readingAccepted(r, previous: previous, evidence: Hash256.sha256(entry.bytes))
                acceptedResults.append(results.count)
                results.append(IngestResult(index: p.index, status: .accepted, meter: hex, sequence: r.sequence))
            case let .ocmfCommitment(entry, commitment, document, signatureValid):
                let (result, finding) = admitOCMF(
                    entry,
                    commitment,
                    document,
                    signatureValid: signatureValid,
                    index: p.index,
                    now: now,
                    in: &group
                )
                if let finding { findings.append(finding) }
                if result.status == .accepted { acceptedResults.append(results.count) }
                results.append(result)
            }
        }

        // Anomaly records, signed by the gateway, go in after the batch's readings.
        var recorded: [AnomalyFinding] = []
        for f in findings {
            do {
                let record = try Anomaly(
                    kind: f.kind,
                    subject: f.subject,
                    evidenceHash: f.evidence,
                    timestamp: now,
                    detail: f.chainDetail
                )
                try stage(try SignedRecord.sign(.anomaly(record), with: gatewayKey), at: now, in: &group)
                recorded.append(f)
            } catch {
                logger.error(
                    "cannot record an anomaly on the chain",
                    metadata: ["meter.id": "\(f.subject.hex)", "error": "\(error)"]
                )
            }
        }
        if let failure = commit(group, at: now) {
            logger.error("readings deferred", metadata: ["error": "\(failure)"])
            for i in acceptedResults {
                results[i].status = .retry
                results[i].reason = .storage
                results[i].detail = "the gateway could not store the reading durably; retry later"
            }
            record(results, source: source)
            return results
        }
        for f in recorded {
            metrics.anomaly(f.category)
            logger.warning(
                "anomaly recorded on the chain",
                metadata: [
                    "meter.id": "\(f.subject.hex)", "anomaly": "\(f.category.rawValue)", "detail": "\(f.detail)",
                ]
            )
        }
        record(results, source: source)
        return results
    }

    /// The ingest reason and the operator's sentence for a reading the chain's rules refuse
    /// (`ChainState.signingKey(for:)` and `admit(_:)`).
    private static func refusal(of violation: RuleViolation, reading r: Reading) -> (IngestReason, String) {
        let hex = r.meter.hex
        switch violation {
        case let .signerMismatch(signer, _, _):
            return (
                .signerMismatch,
                "the envelope is signed by key \(signer.hex) but the reading names meter \(hex); a reading must be signed by its own meter"
            )
        case .unknownSigner, .tnt(.notEnrolled):
            return (
                .unknownMeter,
                "meter \(hex) is not enrolled with this gateway; enroll its public key with `edge-gateway enroll`"
            )
        case .tnt(.revoked):
            return (.revokedMeter, "meter \(hex) was revoked; its readings are no longer accepted")
        case let .readingForOtherGateway(_, sequence, named, gateway):
            return (
                .wrongGateway,
                "reading \(sequence) of meter \(hex) is addressed to gateway \(named.hex), not this gateway \(gateway.hex): it was taken for another gateway, or the agent names the wrong one (meter-agent --gateway-id \(gateway.hex) for this gateway)"
            )
        default:
            return (.malformed, "the chain refuses the reading: \(violation)")
        }
    }

    /// Counts and logs the outcome of a batch.
    private func record(_ results: [IngestResult], source: String?) {
        for r in results {
            switch r.status {
            case .accepted:
                metrics.accepted.increment()
                if let meter = r.meter.flatMap(MeterID.init(hex:)), seen.insert(meter).inserted {
                    metrics.metersSeen.set(Double(seen.count))
                }
            case .duplicate:
                metrics.duplicates.increment()
            case .rejected, .retry:
                let reason = r.reason ?? .malformed
                metrics.rejected(reason)
                var metadata: Logger.Metadata = ["meter.id": "\(r.meter ?? "unknown")", "reason": "\(reason.rawValue)"]
                if let s = r.sequence { metadata["sequence"] = "\(s)" }
                if let source { metadata["source"] = "\(source)" }
                rejections.log(
                    .warning,
                    key: "\(r.meter ?? "unknown")|\(reason.rawValue)",
                    "rejected record: \(r.detail ?? reason.rawValue)",
                    metadata: metadata
                )
            }
        }
    }

    package func noteAccepted(_ entry: SignedRecord, index: UInt64) {
        switch entry.record {
        case let .reading(r):
            pendingReadings[ReadingKey(meter: r.meter, sequence: r.sequence)] = entry.bytes
            meters[r.meter]?.lastReading = r
        case let .enrollment(e):
            if meters[e.meter]?.active != true { activeMeterCount += 1 }
            meters[e.meter] = MeterInfo(e, previous: meters[e.meter])
            keys.set(e.meterKey)
        case let .revocation(r):
            if meters[r.meter]?.active == true { activeMeterCount -= 1 }
            meters[r.meter]?.active = false
        case let .escalation(e):
            escalations[e.decision.decision.decisionID] = entry
        default:
            break
        }
    }

    /// Hands a sealed block to the archiver. Its entries stay in memory (pending) until
    /// the archiver says the store has them (`followArchiver`).
    package func persist(_ block: SealedBlock) {
        archiver.submit(block)
    }

    /// `block`, just sealed by the builder, with the chain snapshot after it when one is due.
    package func sealed(_ block: Block) -> SealedBlock {
        SealedBlock(
            block: block,
            chain: config.snapshotChain(of: builder, after: block, entriesSinceSnapshot: &entriesSinceSnapshot)
        )
    }

    /// After the archiver failed to append a block, resumes from the store and the journal.
    /// Called before every write and seal: acknowledging goes on meanwhile (the journal
    /// holds every entry), and as resuming reads the store back, it is tried at most every
    /// `resumeIntervalMs` while the store stays broken.
    package func resumeAfterArchiveFailure() {
        guard let failure = archiveFailure else { return }
        let now = clock()
        if let last = lastResumeAttempt, now - last < Self.resumeIntervalMs { return }
        lastResumeAttempt = now
        logger.warning(
            "resuming the chain from the store and the pending journal after a failed block append",
            metadata: ["error": "\(failure)"]
        )
        reload()
        if archiveFailure == nil { lastResumeAttempt = nil }
    }

    private func dropSealed(below treeSize: UInt64) {
        let cut = pending.prefix { $0.index < treeSize }
        for p in cut {
            if case let .reading(r) = p.entry.record {
                pendingReadings[ReadingKey(meter: r.meter, sequence: r.sequence)] = nil
            }
        }
        pending.removeFirst(cut.count)
    }

    /// Rebuilds everything from the store and the journal (what is durable). If that
    /// fails and `haltOnFailure` is set (memory may then hold entries that are not
    /// durable), the writer halts: it refuses every write until restarted. Otherwise it
    /// goes on (everything in memory is journaled) and the caller tries again later.
    package func reload(haltOnFailure: Bool = false) {
        archiver.drain()
        do {
            let state = try Self.load(store: store, journal: journal, key: gatewayKey, config: config, logger: logger)
            archiver.resume(memory: state.memory)
            archiveFailure = nil
            archivedTreeSize = state.builder.tip?.treeSize ?? 0
            entriesSinceSnapshot = state.entriesSinceSnapshot
            resumeArchiveWaiters(all: true)
            builder = state.builder
            meters = state.meters
            pending = state.pending
            pendingReadings = state.pendingReadings
            detector = state.detector
            lastTrades = state.lastTrades
            escalations = state.escalations
            activeMeterCount = meters.values.filter(\.active).count
        } catch {
            guard haltOnFailure else {
                logger.error(
                    "cannot resume the chain from the store and the pending journal; trying again in \(Self.resumeIntervalMs / 1000) s",
                    metadata: ["error": "\(error)"]
                )
                return
            }
            halted = "\(error)"
            logger.critical(
                "cannot resume the chain from the store and the pending journal; refusing every write until the gateway is restarted",
                metadata: ["error": "\(error)"]
            )
        }
    }

    package func refreshGauges() {
        metrics.pending.set(Double(builder.pendingCount))
        metrics.height.set(builder.tip.map { Double($0.height) } ?? -1)
        metrics.metersEnrolled.set(Double(activeMeterCount))
    }

    // MARK: sealing

    /// Seals the pending entries if the oldest is older than the seal interval.
    package func sealIfDue() {
        resumeAfterArchiveFailure()
        do {
            if let block = try builder.sealIfDue(at: clock()) { persist(sealed(block)) }
        } catch {
            logger.error("cannot seal a block", metadata: ["error": "\(error)"])
        }
        refreshGauges()
        rejections.flush()
    }

    /// Seals whatever is pending now (graceful shutdown, admin changes) and returns once
    /// the block is in the store.
    package func sealNow() async {
        resumeAfterArchiveFailure()
        do {
            if let block = try builder.seal(at: clock()) { persist(sealed(block)) }
        } catch {
            logger.error("cannot seal a block", metadata: ["error": "\(error)"])
        }
        await waitUntilStored()
        refreshGauges()
        rejections.flush()
    }

    // MARK: admin

    /// Puts an Enrollment on the chain (sealed at once) and returns the entry.
    package func enroll(_ key: PublicIdentity, role: MeterRole) async throws(AdminError) -> SignedRecord {
        try await enroll([key], role: role)[0]
    }

    /// Puts an Enrollment for each key on the chain, all with `role`, in one durable group
    /// (blocks sealed by size as usual, the last at once), and returns the entries in order.
    /// All or none: a key listed twice, or a meter already enrolled (or revoked from another
    /// role), refuses the whole list before anything is written, naming the meter.
    package func enroll(_ keys: [PublicIdentity], role: MeterRole) async throws(AdminError) -> [SignedRecord] {
        var listed = Set<MeterID>()
        for key in keys {
            guard listed.insert(key.id).inserted else {
                throw AdminError(kind: .badRequest, description: "meter \(key.id.hex) is listed twice")
            }
            if let refusal = enrollmentRefusal(key.id, role: role) { throw refusal }
        }
        let now = clock()
        let entries = try keys.map { key throws(AdminError) in
            try sign(.enrollment(Enrollment(meterKey: key, role: role, timestamp: now)))
        }
        // The checks above leave the chain rules nothing to refuse here; if they did, the
        // generic sentence says so.
        try commitGatewayRecords(entries, refusal: { _ in nil })
        await sealNow()
        if keys.count == 1 {
            logger.notice("meter enrolled", metadata: ["meter.id": "\(keys[0].id.hex)", "role": "\(role)"])
        } else {
            logger.notice("meters enrolled", metadata: ["meters": "\(keys.count)", "role": "\(role)"])
        }
        return entries
    }

    /// Why `meter` cannot be enrolled as `role` now, for the operator; nil when it can.
    private func enrollmentRefusal(_ meter: MeterID, role: MeterRole) -> AdminError? {
        guard let status = builder.state.tnt.status(of: meter) else { return nil }
        if status.active {
            return AdminError(
                kind: .conflict,
                description:
                    "meter \(meter.hex) is already enrolled as a \(status.role); revoke it first to change its role"
            )
        }
        guard status.role != role else { return nil }
        return AdminError(
            kind: .conflict,
            description:
                "meter \(meter.hex) was enrolled as a \(status.role) and revoked; it may only be enrolled again as a \(status.role)"
        )
    }

    /// Puts a Revocation on the chain (sealed at once) and returns the entry.
    package func revoke(_ meter: MeterID) async throws(AdminError) -> SignedRecord {
        guard let key = builder.state.key(of: meter), let role = builder.state.tnt.status(of: meter)?.role else {
            throw AdminError(kind: .notFound, description: "meter \(meter.hex) is not enrolled with this gateway")
        }
        let entry = try await addGatewayRecord(.revocation(Revocation(meterKey: key, role: role, timestamp: clock()))) {
            guard case .tnt(.revoked) = $0 else { return nil }
            return AdminError(kind: .conflict, description: "meter \(meter.hex) is already revoked")
        }
        logger.notice("meter revoked", metadata: ["meter.id": "\(meter.hex)", "role": "\(role)"])
        return entry
    }

    /// Signs a gateway record, commits it and seals it at once; `refusal` names a rule
    /// violation for the operator (nil: the generic sentence).
    package func addGatewayRecord(
        _ record: Record,
        refusal: (RuleViolation) -> AdminError? = { _ in nil }
    ) async throws(AdminError) -> SignedRecord {
        let entry = try sign(record)
        try commitGatewayRecords([entry], refusal: refusal)
        await sealNow()
        return entry
    }

    private func sign(_ record: Record) throws(AdminError) -> SignedRecord {
        do { return try SignedRecord.sign(record, with: gatewayKey) } catch {
            throw AdminError(kind: .storage, description: "cannot sign: \(error)")
        }
    }

    /// Commits gateway records as one group (the caller seals); `refusal` as above.
    private func commitGatewayRecords(
        _ entries: [SignedRecord],
        refusal: (RuleViolation) -> AdminError?
    ) throws(AdminError) {
        do { try commit(entries: entries, at: clock()) } catch {
            if case let .refused(.ruleViolation(violation)) = error, let admin = refusal(violation) { throw admin }
            if case .refused = error { throw AdminError(kind: .conflict, description: error.description) }
            throw AdminError(kind: .storage, description: error.description)
        }
    }

    // MARK: queries

    package struct Health: Sendable, Codable {
        package var status: String
        package var height: Int64?
        package var blocks: UInt64
        package var entries: UInt64
        package var pending: Int
        package var gateway: String
    }

    package func health() -> Health {
        Health(
            status: "ok",
            height: builder.tip.map { Int64($0.height) },
            blocks: builder.nextHeight,
            entries: builder.tree.size,
            pending: builder.pendingCount,
            gateway: gatewayKey.id.hex
        )
    }

    package func meterList() -> [(MeterID, MeterInfo, UInt64)] {
        meters.sorted { $0.key < $1.key }.map { ($0.key, $0.value, builder.state.nextReadingSequence(of: $0.key) - 1) }
    }

    package func meter(_ id: MeterID) -> (MeterInfo, UInt64)? {
        meters[id].map { ($0, builder.state.nextReadingSequence(of: id) - 1) }
    }

    /// The TNT table as of every accepted entry (sealed or pending).
    package func tntState() -> TNTState { builder.state.tnt }

    /// Pending entries (accepted, not yet sealed), optionally only one type.
    package func pendingEntries(type: RecordType? = nil) -> [PendingEntry] {
        type.map { t in pending.filter { $0.entry.record.type == t } } ?? pending
    }

    package func isPending(meter: MeterID, sequence: UInt64) -> Bool {
        pendingReadings[ReadingKey(meter: meter, sequence: sequence)] != nil
    }

    package static func haltedDetail(_ reason: String) -> String {
        "the gateway stopped writing after a storage error (\(reason)); its operator must fix the disk and restart it. Send again later"
    }
}

extension ChainWriter.Loaded {
    /// Updates meters, trades, escalations and anomaly memory for an entry of the journal,
    /// and keeps a reading's bytes while it is pending.
    package mutating func note(_ entry: SignedRecord) {
        ResumeMemory.note(entry, meters: &meters, lastTrades: &lastTrades, escalations: &escalations)
        switch entry.record {
        case let .anomaly(a):
            detector.remember(a)
        case let .reading(r):
            pendingReadings[ChainWriter.ReadingKey(meter: r.meter, sequence: r.sequence)] = entry.bytes
            detector.remember(latest: r)
        default:
            break
        }
    }

    package mutating func dropSealed(below treeSize: UInt64) {
        let cut = pending.prefix { $0.index < treeSize }
        for p in cut {
            if case let .reading(r) = p.entry.record {
                pendingReadings[ChainWriter.ReadingKey(meter: r.meter, sequence: r.sequence)] = nil
            }
        }
        pending.removeFirst(cut.count)
    }
}

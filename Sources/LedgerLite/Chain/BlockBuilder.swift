/// When a block is sealed: after `maxEntries` entries or once the oldest pending entry is
/// `maxAgeMilliseconds` old, whichever comes first.
public struct SealPolicy: Hashable, Sendable {
    /// Seal as soon as this many entries are pending (at least 1).
    public var maxEntries: Int
    /// Seal once the first pending entry was added this long ago.
    public var maxAgeMilliseconds: Int64

    /// Creates a policy; `maxEntries` below 1 is treated as 1.
    public init(maxEntries: Int, maxAgeMilliseconds: Int64) {
        self.maxEntries = max(1, maxEntries)
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }
}

/// Collects entries into blocks for one gateway (ETBC).
///
/// Each entry is checked (signature by the right key, then the chain rules) before it is
/// accepted; a refused entry leaves the builder unchanged. Time is passed in by the caller
/// (`at:` in ms since the Unix epoch), never read from the wall clock; if it goes
/// backwards the builder uses the latest time it has seen, so block timestamps never
/// decrease.
///
/// The builder's state moves on when it seals. If appending a sealed block to the store
/// fails, discard the builder and resume a new one from the store (`ChainVerifier`, or a
/// `ChainSnapshot` checked against the stored tip).
public struct BlockBuilder: Sendable {
    /// The gateway key that signs dispatches and headers.
    public let gateway: SigningIdentity
    /// The sealing thresholds.
    public var policy: SealPolicy
    /// Rules and TNT state, including pending entries.
    public private(set) var state: ChainState
    /// The Merkle tree over every entry, including pending ones.
    public private(set) var tree: MerkleTree
    /// The last sealed block, nil before the first.
    public private(set) var tip: ChainTip?
    private var pending: [SignedRecord] = []
    private var firstPendingAt: Int64 = 0
    private var lastTime: Int64 = .min
    /// True: seal version-1 headers, which commit to version 2 of the TNT state digest
    /// (O(meters) per seal), as LedgerLite did before version 2; only to reproduce such chains
    /// in tests and benchmarks. A builder resuming a chain of version-1 headers seals version 2
    /// from its next block on: a chain's header versions may rise at a block boundary, never fall.
    public var sealsLegacyHeaders = false
    /// Test-only: accept every entry unchecked (as a dishonest gateway would) so tamper
    /// tests can build chains whose blocks are correctly signed and hashed but whose
    /// contents break the rules. Never set outside tests.
    var forging = false

    /// A builder for a new, empty chain.
    public init(gateway: SigningIdentity, policy: SealPolicy) {
        self.gateway = gateway
        self.policy = policy
        state = ChainState(gatewayKey: gateway.publicIdentity)
        tree = MerkleTree(retainingLeaves: false)
    }

    /// A builder that continues a verified chain.
    /// - Throws: `BuilderError.wrongGateway` when the chain belongs to another gateway key.
    public init(gateway: SigningIdentity, policy: SealPolicy, resuming chain: VerifiedChain) throws(BuilderError) {
        guard chain.state.gatewayKey == gateway.publicIdentity else {
            throw .wrongGateway(chain: chain.state.gatewayKey.id, builder: gateway.id)
        }
        self.gateway = gateway
        self.policy = policy
        state = chain.state
        tree = chain.tree
        tip = chain.tip
        lastTime = chain.tip?.lastTimestamp ?? .min
    }

    /// A builder that continues a chain from a snapshot taken after its tip (checked by
    /// the caller against the tip's signed header: `ChainSnapshot.disagreement(with:)`).
    /// - Throws: `BuilderError.wrongGateway` when the chain belongs to another gateway key.
    public init(gateway: SigningIdentity, policy: SealPolicy, resuming snapshot: ChainSnapshot) throws(BuilderError) {
        guard snapshot.state.gatewayKey == gateway.publicIdentity else {
            throw .wrongGateway(chain: snapshot.state.gatewayKey.id, builder: gateway.id)
        }
        self.gateway = gateway
        self.policy = policy
        state = snapshot.state
        tree = snapshot.tree
        tip = snapshot.tip
        lastTime = snapshot.tip.lastTimestamp
    }

    /// The chain as of the last sealed block, for a resume snapshot; nil before the first
    /// block or while entries are pending (the state then holds them). Right after `seal`
    /// (or an `add` that sealed) it is the state after that block. Cheap to take (the
    /// state is copied on write), but the builder's next change then copies what it changes.
    public var snapshot: ChainSnapshot? {
        guard pending.isEmpty, let tip else { return nil }
        return ChainSnapshot(tip: tip, tree: tree, state: state)
    }

    /// Entries waiting for the next seal.
    public var pendingCount: Int { pending.count }

    /// Height the next block will have.
    public var nextHeight: UInt64 { tip.map { $0.height + 1 } ?? 0 }

    /// Checks and adds an entry; returns the sealed block if this entry filled it (or the
    /// pending block became old enough).
    /// - Throws: `BuilderError.badSignature` or `.ruleViolation`; the builder is unchanged.
    public mutating func add(_ entry: SignedRecord, at now: Int64) throws(BuilderError) -> Block? {
        if forging {
            do {
                try state.apply(entry, enforcingDispatchRule: false)
            } catch {
                // Forging mode: a rule-breaking entry goes in anyway; the state just skips it.
            }
        } else {
            let key: PublicIdentity
            do { key = try state.signingKey(for: entry) } catch { throw .ruleViolation(error) }
            guard entry.isSignatureValid(by: key) else { throw .badSignature(signer: entry.signer) }
            do { try state.apply(entry) } catch { throw .ruleViolation(error) }
        }
        appendApplied(entry, at: now)
        return try sealIfFull(at: now)
    }

    /// Adds an entry whose signature the caller has already checked, with
    /// `isSignatureValid(by:)`, against the key `state.signingKey(for:)` names (for example
    /// on several cores before handing a batch to the single writer). The chain rules are
    /// still applied; only the signature check is skipped. Returns a sealed block as `add`.
    /// - Throws: `BuilderError.ruleViolation`; the builder is unchanged.
    public mutating func add(signatureChecked entry: SignedRecord, at now: Int64) throws(BuilderError) -> Block? {
        try append(signatureChecked: entry, at: now)
        return try sealIfFull(at: now)
    }

    /// Adds an entry whose signature the caller has already checked (as
    /// `add(signatureChecked:at:)`) but never seals: for a writer that makes a group of
    /// entries durable before any of them may go into a block. Call `sealIfFull(at:)`
    /// afterwards; a block may then hold a few more than `policy.maxEntries` entries.
    /// - Throws: `BuilderError.ruleViolation`; the builder is unchanged.
    public mutating func append(signatureChecked entry: SignedRecord, at now: Int64) throws(BuilderError) {
        do { try state.apply(entry) } catch { throw .ruleViolation(error) }
        appendApplied(entry, at: now)
    }

    /// Puts an entry the state has already taken into the pending block and the tree.
    private mutating func appendApplied(_ entry: SignedRecord, at now: Int64) {
        let time = max(now, lastTime)
        lastTime = time
        if pending.isEmpty { firstPendingAt = time }
        pending.append(entry)
        tree.append(leafHash: entry.leafHash)
    }

    /// Seals the pending entries if either threshold (size or age) is reached.
    public mutating func sealIfFull(at now: Int64) throws(BuilderError) -> Block? {
        guard !pending.isEmpty else { return nil }
        let time = max(now, lastTime)
        guard pending.count >= policy.maxEntries || time - firstPendingAt >= policy.maxAgeMilliseconds else {
            return nil
        }
        return try seal(at: time)
    }

    /// Gateway time the oldest pending entry was added; nil when nothing is pending.
    public var firstPendingTime: Int64? { pending.isEmpty ? nil : firstPendingAt }

    /// Answers a pending request by the TNT rule under the chain's current policy: creates
    /// the Dispatch, signs it with the gateway key and adds it. Returns the dispatch entry and any block it sealed.
    public mutating func dispatch(
        _ request: RequestReference,
        at now: Int64
    ) throws(BuilderError) -> (entry: SignedRecord, sealed: Block?) {
        let record: Dispatch
        do { record = try state.tnt.dispatch(for: request) } catch { throw .ruleViolation(.tnt(error)) }
        let entry: SignedRecord
        do { entry = try SignedRecord.sign(.dispatch(record), with: gateway) } catch { throw .signing(error) }
        return (entry, try add(entry, at: now))
    }

    /// Signs `record` (a gateway record: enrollment, revocation, anomaly, policy) with the gateway
    /// key and adds it.
    public mutating func addGatewayRecord(
        _ record: Record,
        at now: Int64
    ) throws(BuilderError) -> (entry: SignedRecord, sealed: Block?) {
        let entry: SignedRecord
        do { entry = try SignedRecord.sign(record, with: gateway) } catch { throw .signing(error) }
        return (entry, try add(entry, at: now))
    }

    /// Seals the pending entries if the time threshold has passed.
    public mutating func sealIfDue(at now: Int64) throws(BuilderError) -> Block? {
        guard !pending.isEmpty, max(now, lastTime) - firstPendingAt >= policy.maxAgeMilliseconds else { return nil }
        return try seal(at: now)
    }

    /// Seals the pending entries now; nil when there are none.
    public mutating func seal(at now: Int64) throws(BuilderError) -> Block? {
        guard !pending.isEmpty else { return nil }
        let version = sealsLegacyHeaders ? 1 : BlockHeader.currentVersion
        let header = BlockHeader(
            version: version,
            gateway: gateway.id,
            height: nextHeight,
            previousHash: tip?.hash ?? .zero,
            merkleRoot: tree.root,
            treeSize: tree.size,
            entryCount: UInt32(pending.count),
            firstTimestamp: firstPendingAt,
            lastTimestamp: lastTime,
            stateDigest: state.stateDigest(forHeaderVersion: version)
        )
        let signed: SignedBlockHeader
        do { signed = try SignedBlockHeader.sign(header, with: gateway) } catch { throw .signing(error) }
        let block = Block(header: signed, entries: pending)
        pending.removeAll(keepingCapacity: true)
        tip = ChainTip(signed)
        return block
    }
}

/// Why the block builder refused an entry or could not seal.
public enum BuilderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The entry's signature does not verify under the key that must have signed it.
    case badSignature(signer: KeyID)
    /// The entry breaks a chain rule.
    case ruleViolation(RuleViolation)
    /// The gateway key could not sign.
    case signing(IdentityError)
    /// The chain to resume was built by another gateway key.
    case wrongGateway(chain: GatewayID, builder: GatewayID)

    public var description: String {
        switch self {
        case let .badSignature(signer): return "signature by \(signer.hex) does not verify"
        case let .ruleViolation(v): return v.description
        case let .signing(e): return e.description
        case let .wrongGateway(chain, builder):
            return "the chain belongs to gateway \(chain.hex), but this builder signs as \(builder.hex)"
        }
    }
}

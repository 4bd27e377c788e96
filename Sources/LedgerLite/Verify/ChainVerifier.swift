import Foundation

/// Checks a whole chain from its first block: every block signature, hash link, tree size,
/// Merkle root and state digest (the one the header's version names; versions never decrease); every entry's decoding, signer and signature; per-meter
/// sequence continuity; and, by replaying the TNT machine, that every recorded dispatch
/// names the chain's current policy and is the decision that policy gives (single producer
/// or split), and that every offer is credited only what the producer's meter exported.
/// The first failure is reported with its height, entry index and what is wrong.
///
/// Trust comes from the gateway key alone: meter keys are taken from the enrollments on the
/// chain (which the gateway signed). Signature checks run on `concurrency` threads; the
/// call is synchronous and blocks (run it on a thread of your own).
public struct ChainVerifier: Sendable {
    /// The gateway key the chain must be signed with.
    public let gatewayKey: PublicIdentity
    /// Threads used for signature checks and leaf hashing.
    public var concurrency: Int

    /// Creates a verifier trusting `gatewayKey`.
    public init(gatewayKey: PublicIdentity, concurrency: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.gatewayKey = gatewayKey
        self.concurrency = max(1, concurrency)
    }

    /// Verifies every block in `store` (open it with `check: .none` to get this verifier's
    /// detailed report even for a store whose start-up check fails).
    /// - Throws: `VerificationFailure` for the first problem; the store's errors for I/O.
    ///
    /// A store whose first blocks were archived (`archivedPrefix()`) is verified from its
    /// archive boundary: the snapshot stored there must agree with the boundary block's signed
    /// header, and the live blocks after it are checked as above.
    public func verify(_ store: some RawBlockSource) throws -> VerifiedChain {
        var run = try Run(verifier: self, after: store.archivedPrefix())
        try store.forEachRawBlock { raw in try run.check(raw) }
        let orphans = try store.orphanEntries()
        if orphans.count > 0 {
            throw VerificationFailure(
                height: run.tip.map { $0.height + 1 } ?? 0,
                entryIndex: orphans.firstIndex,
                problem: .orphanEntries(count: orphans.count)
            )
        }
        return run.result
    }

    /// Verifies a sequence of blocks starting at height 0 (for example blocks received
    /// from a gateway).
    public func verify(blocks: some Sequence<Block>) throws(VerificationFailure) -> VerifiedChain {
        var run = Run(verifier: self)
        var height: UInt64 = 0
        for block in blocks {
            try run.check(RawBlock(block, rowHeight: height))
            height += 1
        }
        return run.result
    }

    /// Verifies `blocks`, which continue the chain after `start` (from its first block when
    /// nil): an archive segment's blocks after the snapshot it carries.
    public func verify(
        rawBlocks blocks: some Sequence<RawBlock>,
        after start: ArchivedPrefix?
    ) throws(VerificationFailure) -> VerifiedChain {
        var run = try Run(verifier: self, after: start)
        for raw in blocks { try run.check(raw) }
        return run.result
    }

    /// State carried from block to block.
    struct Run {
        let verifier: ChainVerifier
        var state: ChainState
        var tree = MerkleTree(retainingLeaves: false)
        var tip: ChainTip?
        /// The tip's header version: the next block's may not be lower.
        var headerVersion: UInt8?
        var blockCount: UInt64 = 0

        init(verifier: ChainVerifier) {
            self.verifier = verifier
            state = ChainState(gatewayKey: verifier.gatewayKey)
        }

        /// A run continued after `snapshot`'s tip, a block of header version `headerVersion`.
        init(verifier: ChainVerifier, snapshot: ChainSnapshot, headerVersion: UInt8) {
            self.init(verifier: verifier)
            state = snapshot.state
            tree = snapshot.tree
            tip = snapshot.tip
            self.headerVersion = headerVersion
            firstHeight = snapshot.tip.height + 1
        }

        /// A run that continues after `start`, once its snapshot is shown to be the state
        /// after its signed header (signed by the trusted gateway key).
        init(verifier: ChainVerifier, after start: ArchivedPrefix?) throws(VerificationFailure) {
            self.init(verifier: verifier)
            guard var start else { return }
            let header = start.header.header
            func fail(_ problem: VerificationProblem) -> VerificationFailure {
                VerificationFailure(height: header.height, entryIndex: nil, problem: problem)
            }
            guard header.gateway == verifier.gatewayKey.id else { throw fail(.wrongGateway(found: header.gateway)) }
            guard start.header.isSignatureValid(by: verifier.gatewayKey) else { throw fail(.badBlockSignature) }
            guard start.snapshot.state.gatewayKey == verifier.gatewayKey else {
                throw fail(.archiveBoundary("its state names another gateway key"))
            }
            if let problem = start.snapshot.disagreement(with: start.header) { throw fail(.archiveBoundary(problem)) }
            state = start.snapshot.state
            tree = start.snapshot.tree
            tip = start.snapshot.tip
            headerVersion = header.version
            firstHeight = header.height + 1
        }

        /// The height the run starts at (0, or the block after an archive boundary).
        var firstHeight: UInt64 = 0

        var result: VerifiedChain {
            VerifiedChain(tip: tip, tree: tree, state: state, blockCount: blockCount, firstHeight: firstHeight)
        }

        mutating func check(_ raw: RawBlock) throws(VerificationFailure) {
            let height = tip.map { $0.height + 1 } ?? 0
            func fail(_ problem: VerificationProblem, entry: UInt64? = nil) -> VerificationFailure {
                VerificationFailure(height: height, entryIndex: entry, problem: problem)
            }
            guard raw.rowHeight == height else { throw fail(.missingBlock(nextStored: raw.rowHeight)) }

            // Header.
            let signed: SignedBlockHeader
            do { signed = try SignedBlockHeader(bytes: raw.signedHeader) } catch {
                throw fail(.undecodableHeader(error))
            }
            let header = signed.header
            guard header.height == height else { throw fail(.heightMismatch(header: header.height)) }
            if let previous = headerVersion, header.version < previous {
                throw fail(.headerVersionDecreased(previous: previous, found: header.version))
            }
            guard signed.hash.bytes == raw.storedHash else { throw fail(.storedHashMismatch) }
            guard header.gateway == verifier.gatewayKey.id else { throw fail(.wrongGateway(found: header.gateway)) }
            guard signed.isSignatureValid(by: verifier.gatewayKey) else { throw fail(.badBlockSignature) }
            guard header.previousHash == (tip?.hash ?? .zero) else { throw fail(.brokenLink) }
            if let tip, header.firstTimestamp < tip.lastTimestamp {
                throw fail(.timestampsOutOfOrder(previousLast: tip.lastTimestamp, first: header.firstTimestamp))
            }
            let firstIndex = tree.size
            let expectedSize = firstIndex + UInt64(header.entryCount)
            guard header.treeSize == expectedSize else {
                throw fail(.treeSizeMismatch(expected: expectedSize, header: header.treeSize))
            }
            for (offset, entry) in raw.entries.enumerated() where entry.index != firstIndex + UInt64(offset) {
                let expected = firstIndex + UInt64(offset)
                throw fail(.entryIndexMismatch(expected: expected, found: entry.index), entry: expected)
            }
            guard raw.entries.count == Int(header.entryCount) else {
                let missing = raw.entries.count < Int(header.entryCount) ? firstIndex + UInt64(raw.entries.count) : nil
                throw fail(.entryCountMismatch(header: header.entryCount, stored: raw.entries.count), entry: missing)
            }

            // Entries, in order: decoding, signer and chain rules (stops at the first failure).
            var records: [SignedRecord] = []
            var keys: [PublicIdentity] = []
            records.reserveCapacity(raw.entries.count)
            keys.reserveCapacity(raw.entries.count)
            var ruleFailure: (offset: Int, problem: VerificationProblem)?
            for (offset, entry) in raw.entries.enumerated() {
                let record: SignedRecord
                do {
                    record = try SignedRecord(bytes: entry.bytes)
                } catch {
                    ruleFailure = (offset, .undecodableEntry(error))
                    break
                }
                do {
                    let key = try state.signingKey(for: record)
                    try state.apply(record)
                    records.append(record)
                    keys.append(key)
                } catch {
                    ruleFailure = (offset, .ruleViolation(error))
                    break
                }
            }

            // Signatures and leaf hashes of the entries before any rule failure, in parallel.
            let checked = records.count
            let leafSlots = DisjointSlots(count: checked, initial: Hash256.zero)
            let validSlots = DisjointSlots(count: checked, initial: false)
            let entries = raw.entries
            let verifiedRecords = records
            let signerKeys = keys
            parallelRanges(count: checked, workers: verifier.concurrency, minimumPerRange: 16) { range in
                for i in range {
                    leafSlots[i] = Merkle.leafHash(entries[i].bytes)
                    validSlots[i] = verifiedRecords[i].isSignatureValid(by: signerKeys[i])
                }
            }
            let leaves = leafSlots.array
            let valid = validSlots.array
            if let bad = valid.firstIndex(of: false) {
                throw fail(
                    .badSignature(signer: records[bad].signer, type: records[bad].record.type),
                    entry: firstIndex + UInt64(bad)
                )
            }
            if let ruleFailure {
                throw fail(ruleFailure.problem, entry: firstIndex + UInt64(ruleFailure.offset))
            }

            // Block-level commitments.
            for leaf in leaves { tree.append(leafHash: leaf) }
            let root = tree.root
            guard root == header.merkleRoot else {
                throw fail(.merkleRootMismatch(header: header.merkleRoot, computed: root))
            }
            guard state.stateDigest(forHeaderVersion: header.version) == header.stateDigest else {
                throw fail(.stateDigestMismatch)
            }
            tip = ChainTip(signed)
            headerVersion = header.version
            blockCount += 1
        }
    }
}

/// A chain that passed verification: its tip, Merkle tree and replayed state, ready for a
/// `BlockBuilder` to continue.
public struct VerifiedChain: Sendable {
    /// The last block, nil for an empty chain.
    public let tip: ChainTip?
    /// The tree over all entries, pruned (finished chunks' inner hashes are read back from
    /// the store, a store's leaf hashes, when a proof needs them).
    public let tree: MerkleTree
    /// The rules state after all entries (keys, sequences, TNT table).
    public let state: ChainState
    /// Number of blocks verified.
    public let blockCount: UInt64
    /// Height of the first block verified: 0, or the one after an archive boundary (the
    /// blocks before it were checked when they were archived, and by `verify-archive`).
    public var firstHeight: UInt64 = 0
}

/// The first thing found wrong with a chain, and where.
public struct VerificationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Height of the block where it was found.
    public let height: UInt64
    /// Global index of the entry concerned, when it concerns one.
    public let entryIndex: UInt64?
    /// What is wrong.
    public let problem: VerificationProblem

    /// Creates a failure report.
    public init(height: UInt64, entryIndex: UInt64?, problem: VerificationProblem) {
        self.height = height
        self.entryIndex = entryIndex
        self.problem = problem
    }

    public var description: String {
        var location = "block \(height)"
        if let entryIndex { location += ", entry \(entryIndex)" }
        return "chain verification failed at \(location): \(problem)"
    }
}

/// What a `VerificationFailure` found.
public enum VerificationProblem: Hashable, Sendable, CustomStringConvertible {
    /// The block at this height is missing; the next stored one has height `nextStored`.
    case missingBlock(nextStored: UInt64)
    /// The header does not decode.
    case undecodableHeader(RecordDecodingError)
    /// The header says another height (blocks reordered or swapped).
    case heightMismatch(header: UInt64)
    /// The stored block hash is not the hash of the stored header.
    case storedHashMismatch
    /// The header's version is below the previous block's (versions never fall).
    case headerVersionDecreased(previous: UInt8, found: UInt8)
    /// The header names another gateway.
    case wrongGateway(found: GatewayID)
    /// The gateway's signature over the header does not verify.
    case badBlockSignature
    /// The previous-hash link does not point at the previous block.
    case brokenLink
    /// The block starts before the previous one ended.
    case timestampsOutOfOrder(previousLast: Int64, first: Int64)
    /// The header's tree size is not the previous size plus its entry count.
    case treeSizeMismatch(expected: UInt64, header: UInt64)
    /// An entry's global index is not the next one.
    case entryIndexMismatch(expected: UInt64, found: UInt64)
    /// The header lists another number of entries than are present.
    case entryCountMismatch(header: UInt32, stored: Int)
    /// An entry does not decode.
    case undecodableEntry(RecordDecodingError)
    /// An entry's signature does not verify under the key that must have signed it.
    case badSignature(signer: KeyID, type: RecordType)
    /// An entry breaks a chain rule (signer, sequence, TNT dispatch, …).
    case ruleViolation(RuleViolation)
    /// The Merkle root recomputed from the entries differs from the header's.
    case merkleRootMismatch(header: Hash256, computed: Hash256)
    /// The TNT state digest after replaying the block differs from the header's.
    case stateDigestMismatch
    /// Entry rows that belong to no block.
    case orphanEntries(count: Int)
    /// The snapshot a verification starts from (an archive boundary, a segment's start)
    /// disagrees with the signed header it follows.
    case archiveBoundary(String)

    public var description: String {
        switch self {
        case let .missingBlock(next): return "this block is missing (the next stored block has height \(next))"
        case let .undecodableHeader(e): return "the header does not decode: \(e)"
        case let .heightMismatch(h):
            return "the block stored here carries a header for height \(h) (blocks reordered or swapped)"
        case .storedHashMismatch: return "the stored block hash does not match the header"
        case let .headerVersionDecreased(previous, found):
            return "the header has version \(found), below the previous block's version \(previous)"
        case let .wrongGateway(found): return "the header names gateway \(found.hex), not the trusted gateway"
        case .badBlockSignature: return "the gateway's signature over the header does not verify"
        case .brokenLink: return "the previous-block hash does not match the previous block"
        case let .timestampsOutOfOrder(last, first):
            return "the block starts at \(first) ms, before the previous block's end at \(last) ms"
        case let .treeSizeMismatch(expected, header): return "the header says tree size \(header), expected \(expected)"
        case let .entryIndexMismatch(expected, found):
            return "expected entry index \(expected) but found \(found) (entry \(expected) is missing or moved)"
        case let .entryCountMismatch(header, stored):
            return "the header lists \(header) entries but \(stored) are present (entries deleted or added)"
        case let .undecodableEntry(e): return "the entry does not decode: \(e)"
        case let .badSignature(signer, type):
            return
                "the \(type)'s signature does not verify under key \(signer.hex) (altered or signed with a foreign key)"
        case let .ruleViolation(v): return v.description
        case let .merkleRootMismatch(header, computed):
            return "Merkle root mismatch: header \(header.hex), entries give \(computed.hex)"
        case .stateDigestMismatch: return "the TNT state digest does not match the replayed state"
        case let .orphanEntries(count): return "\(count) stored entries belong to no block"
        case let .archiveBoundary(what): return "the archive boundary's snapshot disagrees with this block: \(what)"
        }
    }
}

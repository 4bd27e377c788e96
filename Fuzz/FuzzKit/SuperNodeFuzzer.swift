import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import Logging
import ModbusBridge
import SuperNodeCore

/// Drives validly signed hostile pushes and escalations through a real super node's
/// admission, in process, the way its HTTP handlers do (`SuperNode.push` and
/// `SuperNode.escalate`, with the exact JSON body a gateway sends and its signed request
/// stamp), and afterwards checks that what the super node stored re-verifies.
///
/// Two certified gateways push to it:
/// - the **honest gateway** writes a genuine chain with LedgerLite's `BlockBuilder` (the
///   gateway's chain-writing code): enrollments and the authority record, readings whose
///   export counters back the offers, requests answered by the TNT rule, a consumer revoked
///   and enrolled again now and then. Its genuine blocks are pushed in order, interleaved
///   with hostile variants of them — replays, forks, gaps, truncated or padded wire bytes,
///   flipped bits, headers re-signed with the gateway key over extreme heights, timestamps,
///   counts, tree sizes and hashes, the next block ending beyond the super node's clock window
///   (which must be refused as `future-timestamp`), entries dropped, duplicated, swapped or
///   inserted under a re-signed header, a valid block naming a foreign root key — and pushes with missing,
///   malformed, stale, replayed or foreign request stamps and certificates. Every genuine
///   block must be accepted, in order, and no hostile one ever: either is checked on every
///   answer, and a breach throws `Broken`.
/// - the **hostile gateway** holds a certificate too, and writes with the same builder
///   whatever the chain rules let through: readings, offers, requests and policies with
///   values at the extremes of their types. What the super node accepts becomes its chain
///   (so its audit, TNT replay and value verification run on hostile numbers); a block the
///   builder could not have built must be refused, and so must one it wrote at a time beyond
///   the super node's clock window (`future-timestamp`). Suspended by the value rule, it is
///   reinstated as an operator would.
///
/// Escalations come from both gateways' consumers, from their producers, from strangers and
/// consumers not yet audited, with energies and timestamps at the extremes, requests signed
/// by the wrong key, and the same credential variants as pushes. No gateway announces a URL,
/// so no escalation leaves the process (a served escalation is the gateway tests' concern).
///
/// A trap anywhere kills the process, which is the failure this exists to find; every other
/// outcome is counted by reason.
package final class SuperNodeFuzzer {
    /// The super node accepted what it must refuse, refused what it must accept, or its
    /// store does not re-verify.
    package struct Broken: Error, CustomStringConvertible {
        package let description: String
    }

    /// What `finish` re-verified from the super node's store.
    package struct Verified: Sendable {
        /// Blocks of the honest gateway's chain, all genuine, in order.
        package var genuineBlocks: UInt64
        /// Blocks of the hostile gateway's chain (what the super node accepted of it).
        package var hostileGatewayBlocks: UInt64
        /// Entries in both chains.
        package var entries: UInt64
    }

    /// How far a request stamp may be from the super node's clock in a run, ms.
    static let window: Int64 = 30_000
    /// Most nonces the super node keeps per gateway in a run: small, so a flood reaches it.
    static let nonceLimit = 48

    let directory: SuperDirectory
    let node: SuperNode
    let clock: FuzzClock
    var random: SplitMix64
    /// What the inputs so far came to, by outcome.
    package internal(set) var outcomes = FuzzOutcomes()

    // The honest gateway.
    let honest: SigningIdentity
    let honestCertificate: SignedGatewayCertificate
    let consumers: [SigningIdentity]
    let producers: [SigningIdentity]
    /// The builder after the last genuine block generated.
    var builder: BlockBuilder
    /// The builder before each genuine block not yet accepted (by height), for valid forks.
    var snapshots: [UInt64: BlockBuilder] = [:]
    /// Recent genuine blocks by height (accepted ones kept a while, for replays and forks).
    var genuine: [UInt64: Block] = [:]
    /// Genuine blocks generated (the next one's height).
    var generated: UInt64 = 0
    /// The height the super node expects next from the honest gateway.
    var accepted: UInt64 = 0
    var readingSequence: [MeterID: UInt64] = [:]
    var tradeSequence: [MeterID: UInt64] = [:]
    var counters: [MeterID: Int64] = [:]
    /// Whether `consumers[0]` is enrolled now on the genuine chain.
    var firstConsumerActive = true

    // The hostile gateway.
    let hostile: SigningIdentity
    let hostileCertificate: SignedGatewayCertificate
    var hostileBuilder: BlockBuilder
    var hostileMembers: [(key: SigningIdentity, role: MeterRole)] = []
    var hostileReadingSequence: [MeterID: UInt64] = [:]
    var hostileTradeSequence: [MeterID: UInt64] = [:]

    // Credentials that must be refused.
    let stranger: SigningIdentity
    let strangerRoot: SigningIdentity
    /// The honest gateway's key certified by another root.
    let untrusted: SignedGatewayCertificate
    /// Signed by this super node's root but never registered.
    let unregistered: SignedGatewayCertificate
    /// Certified, then revoked.
    let revoked: SignedGatewayCertificate
    let revokedKey: SigningIdentity
    /// The last push and escalation that passed authentication, to send again verbatim.
    var lastPush: (certificate: [UInt8]?, proof: RequestProof, blocks: [[UInt8]])?
    var lastEscalation: (certificate: [UInt8]?, proof: RequestProof, request: [UInt8], consumerKey: String)?

    /// The gateways' keys and the certificates `open` issued them.
    private struct Certified {
        let honest: SigningIdentity
        let hostile: SigningIdentity
        let revokedKey: SigningIdentity
        let honestCertificate: SignedGatewayCertificate
        let hostileCertificate: SignedGatewayCertificate
        let revoked: SignedGatewayCertificate

        /// Certifies an honest and a hostile gateway, and a third one then revoked.
        static func issue(_ node: SuperNode, now: Int64) async throws -> Certified {
            func certify(_ key: SigningIdentity, _ name: String) async throws -> SignedGatewayCertificate {
                try await Authority.certify(
                    store: node.store,
                    root: node.root,
                    gatewayKey: key.publicIdentity,
                    name: name,
                    now: now
                )
            }
            let (honest, hostile, revokedKey) = (SigningIdentity(), SigningIdentity(), SigningIdentity())
            let honestCertificate = try await certify(honest, "honest")
            let hostileCertificate = try await certify(hostile, "hostile")
            let revoked = try await certify(revokedKey, "revoked")
            _ = try await Authority.revoke(store: node.store, .serial(revoked.certificate.serial), now: now)
            return Certified(
                honest: honest,
                hostile: hostile,
                revokedKey: revokedKey,
                honestCertificate: honestCertificate,
                hostileCertificate: hostileCertificate,
                revoked: revoked
            )
        }
    }

    /// Synchronous on purpose: an `async` initializer that awaited the certificates between
    /// the stored properties' initialisation left a corrupted object with Swift 6.3 (the
    /// fuzz slice crashed reading `outcomes` in 3 runs of 3; issued first, 0 of 3).
    private init(
        directory: SuperDirectory,
        node: SuperNode,
        clock: FuzzClock,
        seed: UInt64,
        meters: Int,
        certified: Certified
    ) throws {
        let now = clock.now()
        let honest = certified.honest
        let hostile = certified.hostile
        let revokedKey = certified.revokedKey
        let strangerRoot = SigningIdentity()
        let honestCertificate = certified.honestCertificate
        hostileCertificate = certified.hostileCertificate
        revoked = certified.revoked
        untrusted = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: strangerRoot.id,
                gatewayKey: honest.publicIdentity,
                serial: honestCertificate.certificate.serial,
                issuedAt: now,
                name: "honest"
            ),
            with: strangerRoot
        )
        unregistered = try SignedGatewayCertificate.sign(
            GatewayCertificate(
                issuer: node.root.id,
                gatewayKey: honest.publicIdentity,
                serial: 9999,
                issuedAt: now,
                name: "x"
            ),
            with: node.root
        )
        let policy = SealPolicy(maxEntries: 10_000, maxAgeMilliseconds: .max)
        builder = BlockBuilder(gateway: honest, policy: policy)
        hostileBuilder = BlockBuilder(gateway: hostile, policy: policy)
        self.honest = honest
        self.hostile = hostile
        self.honestCertificate = honestCertificate
        self.revokedKey = revokedKey
        self.strangerRoot = strangerRoot
        stranger = SigningIdentity()
        self.directory = directory
        self.node = node
        self.clock = clock
        random = SplitMix64(seed: seed)
        consumers = (0..<meters).map { _ in SigningIdentity() }
        producers = (0..<meters).map { _ in SigningIdentity() }
    }

    /// A fresh super node in `path` (an empty directory) with two certified gateways, the
    /// honest one with `meters` consumers and as many producers, fed from `seed`.
    package static func open(path: String, seed: UInt64, meters: Int = 4) async throws -> SuperNodeFuzzer {
        let directory = SuperDirectory(path)
        _ = try await directory.initialise()
        let clock = FuzzClock(start: 1_790_000_000_000)
        let node = try await SuperNode.open(
            directory: directory,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }),
            clock: clock.now,
            requests: RequestAuthenticator(window: window, nonceLimit: nonceLimit)
        )
        let fuzzer = try SuperNodeFuzzer(
            directory: directory,
            node: node,
            clock: clock,
            seed: seed,
            meters: meters,
            certified: try await Certified.issue(node, now: clock.now())
        )
        try fuzzer.genesis()
        return fuzzer
    }

    /// Feeds `count` inputs: each is one push or one escalation.
    package func run(inputs count: Int) async throws {
        for _ in 0..<count {
            clock.advance(by: 1 + Int64(random.next() % 1500))
            switch random.next() % 100 {
            case 0..<20: try await pushGenuine()
            case 20..<48: try await pushHostileBlock()
            case 48..<60: try await pushWithHostileCredentials()
            case 60..<75: try await pushHostileGatewayBlock()
            case 75..<97: try await escalate()
            case 97: try await (random.chance(40) ? flood() : pushGenuine())
            default: try await pushGenuineOutOfOrder()
            }
        }
    }

    /// Pushes every genuine block not yet accepted (after the stamps of a flood expired),
    /// checks that the honest gateway's audited tip is its last genuine block, then opens the
    /// data directory again, checks that it resumes the same tips, and audits every stored
    /// chain again from its first block against the audit snapshots it resumed from.
    /// - Throws: `Broken` naming what does not hold.
    package func finish() async throws -> Verified {
        clock.advance(by: Self.window + 1000)
        try generateGenuine(upTo: accepted + 1)
        while accepted < generated {
            let blocks = (accepted..<generated).compactMap { genuine[$0] }
            _ = try await push(blocks: blocks.map { $0.wireBytes() }, genuineFrom: accepted, as: honest)
        }
        let tips = try await node.auditedTips()
        guard let tip = tips[honest.id], tip.height + 1 == generated, tip.hash == genuine[tip.height]?.hash else {
            throw Broken(
                description:
                    "the honest gateway's audited tip is \(tips[honest.id].map { "block \($0.height)" } ?? "nothing") after \(generated) genuine blocks"
            )
        }
        let reopened = try await SuperNode.open(
            directory: directory,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        // Each gateway's audit restored from the store (snapshot and the blocks after it) is
        // the live one.
        for gateway in tips.keys {
            let live = try await node.auditedChain(of: gateway).map(AuditSnapshot.encoded)
            let restored = try await reopened.auditedChain(of: gateway).map(AuditSnapshot.encoded)
            guard live != nil, restored == live else {
                throw Broken(
                    description: "gateway \(gateway.hex)'s audit restored from the store differs from the live one"
                )
            }
        }
        // Opening resumed from each gateway's audit snapshot: every stored block is audited
        // again here from the first (the verifier's checks, block by block), and each
        // snapshot must equal that replay.
        let outcomes = try await reopened.checkAuditSnapshots()
        for (_, outcome) in outcomes {
            guard case .matches = outcome else {
                throw Broken(description: "an audit snapshot does not match its chain replayed: \(outcome)")
            }
        }
        let honestTip = tips[honest.id]!
        let hostileTip = tips[hostile.id]
        return Verified(
            genuineBlocks: honestTip.height + 1,
            hostileGatewayBlocks: hostileTip.map { $0.height + 1 } ?? 0,
            entries: honestTip.treeSize + (hostileTip?.treeSize ?? 0)
        )
    }

    // MARK: pushing

    /// Signs a push of `blocks` by `signer` (the gateway's key, unless the input is about a
    /// foreign one), as a gateway's uplink does, hands it to the super node and records what
    /// happened to each block. The first `genuineCount` blocks (all when nil) are the honest
    /// gateway's genuine blocks from height `genuineFrom` (nil: none of them is).
    /// - Returns: the outcome.
    @discardableResult
    func push(
        blocks: [[UInt8]],
        genuineFrom: UInt64?,
        genuineCount: Int? = nil,
        certificate: [UInt8]? = nil,
        as signer: SigningIdentity,
        stamp: StampKind = .valid
    ) async throws -> PushOutcome {
        let certificate = certificate ?? (signer.id == hostile.id ? hostileCertificate : honestCertificate).bytes
        let body = Array(
            try JSONEncoder().encode(
                PushRequest(
                    certificate: Data(certificate).base64EncodedString(),
                    blocks: blocks.map { Data($0).base64EncodedString() }
                )
            )
        )
        let proof = try self.proof(stamp, signer: signer, endpoint: SuperNodeRoutes.blocks, body: body)
        let outcome = try await node.push(certificate: certificate, proof: proof, blocks: blocks)
        try record(
            outcome,
            blocks: blocks.count,
            genuineFrom: genuineFrom,
            genuineCount: genuineCount ?? blocks.count,
            gateway: signer.id
        )
        if outcome.rejection.map({ $0.index != nil }) ?? true {
            lastPush = (certificate, proof, blocks)
        }
        return outcome
    }

    /// Counts each block's outcome and checks the honest gateway's chain: a genuine block
    /// refused for anything but a credential of the push's own, or a non-genuine block
    /// accepted as new, is a breach.
    private func record(
        _ outcome: PushOutcome,
        blocks: Int,
        genuineFrom: UInt64?,
        genuineCount: Int,
        gateway: GatewayID
    ) throws {
        if let rejection = outcome.rejection, rejection.index == nil {
            outcomes.record("push refused:\(rejection.reason.rawValue)")
            if genuineFrom != nil, gateway == honest.id, rejection.reason != .tooManyRequests {
                throw Broken(
                    description: "a genuine push was refused: \(rejection.reason.rawValue): \(rejection.message)"
                )
            }
            return
        }
        outcomes.record("push taken")
        for (index, block) in outcome.accepted.enumerated() {
            let checkpoint = block.checkpoint.checkpoint
            if block.replayed {
                outcomes.tally("block replayed")
                continue
            }
            if checkpoint.gateway == hostile.id {
                outcomes.tally("hostile-gateway block accepted")
                continue
            }
            guard checkpoint.gateway == honest.id, checkpoint.height == accepted,
                genuine[checkpoint.height]?.hash == checkpoint.blockHash
            else {
                throw Broken(
                    description:
                        "the super node accepted a block that is not the honest gateway's genuine block \(accepted): height \(checkpoint.height), hash \(checkpoint.blockHash.hex) (push position \(index))"
                )
            }
            outcomes.tally("genuine block accepted")
            accepted += 1
            snapshots[accepted - 1] = nil
            genuine[accepted &- 65] = nil
        }
        guard let rejection = outcome.rejection, let index = rejection.index else { return }
        outcomes.tally("block rejected:\(rejection.reason.rawValue)")
        if let first = genuineFrom, gateway == honest.id, index < genuineCount, first + UInt64(index) == accepted,
            rejection.reason != .tooManyRequests
        {
            throw Broken(
                description:
                    "genuine block \(first + UInt64(index)) was refused: \(rejection.reason.rawValue): \(rejection.message)"
            )
        }
        if blocks > index + 1 { outcomes.tally("block not looked at", by: blocks - index - 1) }
    }

    /// The next 1 to 3 genuine blocks, signed correctly, now and then followed by a hostile
    /// variant or a replay in the same push.
    private func pushGenuine() async throws {
        let count = 1 + random.next() % 3
        try generateGenuine(upTo: accepted + count)
        var blocks = (accepted..<accepted + count).map { genuine[$0]!.wireBytes() }
        let genuineCount = blocks.count
        if random.chance(25) { blocks.append(try hostileBlock(next: accepted + count)) }
        try await push(blocks: blocks, genuineFrom: accepted, genuineCount: genuineCount, as: honest)
    }

    /// Genuine blocks out of order: ahead of the audited chain, or the next ones backwards.
    private func pushGenuineOutOfOrder() async throws {
        try generateGenuine(upTo: accepted + 3)
        let blocks: [Block]
        switch random.next() % 3 {
        case 0: blocks = [genuine[accepted + 1]!, genuine[accepted + 2]!]
        case 1: blocks = [genuine[accepted + 1]!, genuine[accepted]!]
        default: blocks = [genuine[accepted]!, genuine[accepted]!, genuine[accepted + 2]!]
        }
        try await push(blocks: blocks.map { $0.wireBytes() }, genuineFrom: nil, as: honest)
    }

    /// One hostile variant of a genuine block (sometimes after the next genuine block, now
    /// and then the next one dated beyond the super node's clock window), with the honest
    /// gateway's certificate and a valid stamp.
    private func pushHostileBlock() async throws {
        if random.chance(10) { return try await pushFutureBlock() }
        if random.chance(15) {
            try generateGenuine(upTo: accepted + 1)
            let blocks = [genuine[accepted]!.wireBytes(), try hostileBlock(next: accepted + 1)]
            try await push(blocks: blocks, genuineFrom: accepted, genuineCount: 1, as: honest)
        } else {
            try await push(blocks: [try hostileBlock(next: accepted)], genuineFrom: nil, as: honest)
        }
    }

    /// The next genuine block (or an accepted one, or a stranger's push) under a hostile
    /// certificate or request stamp.
    private func pushWithHostileCredentials() async throws {
        try generateGenuine(upTo: accepted + 1)
        let next = genuine[accepted]!.wireBytes()
        if random.chance(10), let last = lastPush {
            // The same request, byte for byte, again.
            let outcome = try await node.push(certificate: last.certificate, proof: last.proof, blocks: last.blocks)
            try record(outcome, blocks: last.blocks.count, genuineFrom: nil, genuineCount: 0, gateway: honest.id)
            return
        }
        switch random.next() % 9 {
        case 0: try await push(blocks: [next], genuineFrom: nil, certificate: [], as: honest)
        case 1: try await push(blocks: [next], genuineFrom: nil, certificate: random.bytes(0..<300), as: honest)
        case 2: try await push(blocks: [next], genuineFrom: nil, certificate: hostileCertificate.bytes, as: hostile)
        case 3: try await push(blocks: [next], genuineFrom: nil, certificate: untrusted.bytes, as: honest)
        case 4: try await push(blocks: [next], genuineFrom: nil, certificate: unregistered.bytes, as: honest)
        case 5: try await push(blocks: [next], genuineFrom: nil, certificate: revoked.bytes, as: revokedKey)
        case 6:
            let bytes = honestCertificate.bytes
            let cut =
                random.chance(50)
                ? Array(bytes.prefix(Int(random.next() % UInt64(bytes.count)))) : bytes.flippingOneBit(using: &random)
            try await push(blocks: [next], genuineFrom: nil, certificate: cut, as: honest)
        default:
            try await push(blocks: [next], genuineFrom: nil, as: honest, stamp: randomHostileStamp())
        }
    }

    /// Many cheap signed requests at one instant, so the super node's nonce register fills.
    private func flood() async throws {
        outcomes.record("flood")
        for _ in 0..<(Self.nonceLimit + 8) {
            let body = Array(#"{"certificate":"","request":"","consumerKey":""}"#.utf8)
            let certificate = honestCertificate.bytes
            let proof = try self.proof(.valid, signer: honest, endpoint: SuperNodeRoutes.escalations, body: body)
            let (_, answer) = try await node.escalate(
                certificate: certificate,
                proof: proof,
                request: [],
                consumerKey: ""
            )
            outcomes.tally("flood escalation \(answer.status):\(answer.reason ?? "-")")
        }
    }

    // MARK: request stamps

    /// How a request is signed.
    enum StampKind {
        case valid
        case missing
        case garbage
        case truncated
        case byStranger
        case otherRoute
        case otherBody
        case at(Int64)
        case nonce([UInt8])
    }

    private func randomHostileStamp() -> StampKind {
        switch random.next() % 8 {
        case 0: return .missing
        case 1: return .garbage
        case 2: return .truncated
        case 3: return .byStranger
        case 4: return .otherRoute
        case 5: return .otherBody
        case 6:
            let now = clock.now()
            return .at(
                random.pick([
                    now - Self.window - 1, now + Self.window + 1, now - Self.window, now + Self.window,
                    random.hostileInt64(around: now),
                ])
            )
        default: return .nonce(random.pick([[UInt8](repeating: 0, count: 16), [UInt8](repeating: 0xFF, count: 16)]))
        }
    }

    /// The `GridLedger-Signature` value and body for a request, as `kind` says.
    func proof(_ kind: StampKind, signer: SigningIdentity, endpoint: Endpoint, body: [UInt8]) throws -> RequestProof {
        let now = clock.now()
        func stamp(
            by key: SigningIdentity = signer,
            at time: Int64 = now,
            nonce: [UInt8]? = nil,
            endpoint: Endpoint = endpoint,
            body: [UInt8] = body
        ) throws -> String {
            try RequestSigning.headerValue(
                signer: key,
                at: time,
                nonce: nonce ?? random.bytes(16..<17),
                endpoint: endpoint,
                body: body
            )
        }
        let signature: String?
        switch kind {
        case .valid: signature = try stamp()
        case .missing: signature = random.chance(50) ? nil : ""
        case .garbage:
            signature = random.chance(50) ? "%%not base64%%" : Data(random.bytes(0..<200)).base64EncodedString()
        case .truncated:
            let bytes = Array(Data(base64Encoded: try stamp())!)
            signature = Data(bytes.prefix(Int(random.next() % UInt64(bytes.count)))).base64EncodedString()
        case .byStranger: signature = try stamp(by: stranger)
        case .otherRoute:
            signature = try stamp(
                endpoint: endpoint == SuperNodeRoutes.blocks ? SuperNodeRoutes.escalations : SuperNodeRoutes.blocks
            )
        case .otherBody: signature = try stamp(body: body + [0x20])
        case let .at(time): signature = try stamp(at: time)
        case let .nonce(nonce): signature = try stamp(nonce: nonce)
        }
        return RequestProof(signature: signature, body: body)
    }
}

extension SplitMix64 {
    /// Random bytes, as many as a random element of `lengths`.
    mutating func bytes(_ lengths: Range<Int>) -> [UInt8] {
        let count = lengths.lowerBound + Int(next() % UInt64(lengths.count))
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}

import Foundation
import GridAPI
import LedgerLite
import LedgerStore
import ModbusBridge
import SuperNodeCore

/// The chains the super node fuzzer pushes: the honest gateway's genuine blocks and their
/// hostile variants, the hostile gateway's blocks, and the escalations.
extension SuperNodeFuzzer {
    // MARK: the genuine chain

    /// Block 0 of the genuine chain (the authority record and every enrollment but the last
    /// consumer's, which comes later), and the hostile gateway's first entries (pending).
    func genesis() throws {
        let now = clock.now()
        snapshots[0] = builder
        try gatewayRecord(
            .authority(
                AuthorityRecord(rootKey: node.root.publicIdentity, certificate: honestCertificate, timestamp: now)
            )
        )
        for key in consumers.dropLast() {
            try gatewayRecord(.enrollment(Enrollment(meterKey: key.publicIdentity, role: .consumer, timestamp: now)))
        }
        for key in producers {
            try gatewayRecord(.enrollment(Enrollment(meterKey: key.publicIdentity, role: .producer, timestamp: now)))
        }
        try seal()

        _ = try hostileBuilder.addGatewayRecord(
            .authority(
                AuthorityRecord(rootKey: node.root.publicIdentity, certificate: hostileCertificate, timestamp: now)
            ),
            at: now
        )
        for role in [MeterRole.consumer, .consumer, .producer, .producer] {
            let key = SigningIdentity()
            _ = try hostileBuilder.addGatewayRecord(
                .enrollment(Enrollment(meterKey: key.publicIdentity, role: role, timestamp: now)),
                at: now
            )
            hostileMembers.append((key, role))
        }
    }

    private func gatewayRecord(_ record: Record) throws {
        do { _ = try builder.addGatewayRecord(record, at: clock.now()) } catch {
            throw Broken(description: "the genuine chain refused its own \(record.type): \(error)")
        }
    }

    private func add(_ entry: SignedRecord) throws {
        // Signed just now by the key the chain names: only the rules are left to check.
        do { _ = try builder.add(signatureChecked: entry, at: clock.now()) } catch {
            throw Broken(description: "the genuine chain refused its own \(entry.record.type): \(error)")
        }
    }

    private func seal() throws {
        guard let block = try builder.seal(at: clock.now()) else { return }
        genuine[generated] = block
        generated += 1
    }

    /// Generates genuine blocks until `height` blocks exist.
    func generateGenuine(upTo height: UInt64) throws {
        while generated < height {
            snapshots[generated] = builder
            for _ in 0..<(2 + random.next() % 7) { try genuineEntry() }
            try seal()
        }
    }

    /// The builder before genuine block `height` (not yet accepted) was sealed.
    func snapshot(at height: UInt64) -> BlockBuilder? {
        height == generated ? builder : snapshots[height]
    }

    /// One honest entry: a reading (producers' export counters grow), an offer no larger
    /// than the producer's metered export not yet credited, a request and its dispatch, or
    /// the last consumer enrolled, revoked or enrolled again.
    private func genuineEntry() throws {
        let now = clock.now()
        let last = consumers[consumers.count - 1]
        switch random.next() % 20 {
        case 0..<8:
            let meter = random.pick(activeConsumers + producers)
            let sequence = (readingSequence[meter.id] ?? 0) + 1
            readingSequence[meter.id] = sequence
            let counter = (counters[meter.id] ?? 0) + Int64(random.next() % 300)
            counters[meter.id] = counter
            let isProducer = producers.contains { $0.id == meter.id }
            var values = [MeasuredValue(.energyImportWh, isProducer ? 0 : counter), MeasuredValue(.activePowerW, 500)]
            if isProducer { values.append(MeasuredValue(.energyExportWh, counter)) }
            let reading = try Reading(
                meter: meter.id,
                gateway: honest.id,
                sequence: sequence,
                timestamp: now,
                values: values
            )
            try add(try SignedRecord.sign(.reading(reading), with: meter))
        case 8..<12:
            let producer = random.pick(producers)
            guard let status = builder.state.tnt.status(of: producer.id), status.exportedWh > status.creditedWh else {
                return
            }
            let offer = try Offer(
                producer: producer.id,
                sequence: nextTradeSequence(producer.id),
                energyWh: 1 + random.next() % (status.exportedWh - status.creditedWh),
                validFrom: now,
                validUntil: now + 3_600_000
            )
            try add(try SignedRecord.sign(.offer(offer), with: producer))
        case 12..<18:
            let consumer = random.pick(activeConsumers)
            let request = try EnergyRequest(
                consumer: consumer.id,
                sequence: nextTradeSequence(consumer.id),
                energyWh: 1 + random.next() % 400,
                timestamp: now
            )
            try add(try SignedRecord.sign(.request(request), with: consumer))
            do { _ = try builder.dispatch(request.reference, at: now) } catch {
                throw Broken(description: "the genuine chain could not dispatch its own request: \(error)")
            }
        default:
            let enrolled = builder.state.tnt.status(of: last.id)?.active == true
            let record: Record =
                enrolled
                ? .revocation(Revocation(meterKey: last.publicIdentity, role: .consumer, timestamp: now))
                : .enrollment(Enrollment(meterKey: last.publicIdentity, role: .consumer, timestamp: now))
            try gatewayRecord(record)
        }
    }

    /// The honest gateway's consumers enrolled now on the genuine chain being written.
    private var activeConsumers: [SigningIdentity] {
        consumers.filter { builder.state.tnt.status(of: $0.id)?.active == true }
    }

    private func nextTradeSequence(_ meter: MeterID) -> UInt64 {
        let next = (tradeSequence[meter] ?? 0) + 1
        tradeSequence[meter] = next
        return next
    }

    // MARK: hostile variants of genuine blocks

    /// The wire bytes of a hostile variant of a genuine block, for a push that reaches it when
    /// the super node expects height `next`: at that height (where it must be refused for
    /// what was changed), at an accepted one (a fork, or a replay), or ahead (a gap).
    func hostileBlock(next: UInt64) throws -> [UInt8] {
        try generateGenuine(upTo: next + 2)
        let height: UInt64
        switch random.next() % 10 {
        case 0..<5: height = next
        case 5..<8: height = next > 0 ? next - 1 - random.next() % min(next, 64) : next
        default: height = next + 1
        }
        let base = genuine[height]!
        switch random.next() % 12 {
        case 0:
            // A replay of an accepted block (the next one would simply be accepted).
            return (height < next ? base : genuine[next &- 1] ?? base).wireBytes()
        case 1:
            let bytes = base.wireBytes()
            return Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
        case 2: return base.wireBytes() + random.bytes(1..<17)
        case 3: return base.wireBytes().flippingOneBit(using: &random)
        case 4:
            // An entry count or an entry length at an extreme, unsigned (it is not in the header).
            var bytes = base.wireBytes()
            let offset = random.chance(50) ? 216 : 220
            let value = random.pick([UInt32.max, UInt32.max - 1, 0, 1, UInt32(Block.maxWireEntries + 1), 0x8000_0000])
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * i)) }
            return bytes
        case 5, 6: return try resignedHeader(of: base, atNext: height == next).wireBytes()
        case 7, 8: return try resignedEntries(of: base).wireBytes()
        case 9:
            // A block the chain rules take, naming another root key: refused by the super node
            // alone, after its audit passed.
            guard var fork = snapshot(at: next) else { return base.wireBytes() }
            let at = genuine[next]!.header.header.firstTimestamp
            _ = try fork.addGatewayRecord(
                .authority(
                    AuthorityRecord(rootKey: strangerRoot.publicIdentity, certificate: untrusted, timestamp: at)
                ),
                at: at
            )
            return try fork.seal(at: at)!.wireBytes()
        case 10:
            // The genuine header signed by another key.
            return Block(header: try SignedBlockHeader.sign(base.header.header, with: stranger), entries: base.entries)
                .wireBytes()
        default:
            // The genuine header over another block's entries (not re-signed).
            let other = genuine[height == next ? next + 1 : next]!
            return Block(header: base.header, entries: other.entries).wireBytes()
        }
    }

    /// `base` with one header field at a hostile value, signed again by the honest gateway's
    /// key. At the next height a timestamp is only moved where it must be refused: before the
    /// previous block's end, after the block's own end, or beyond the super node's clock window
    /// (`future-timestamp`); anywhere else the block would be valid, and would end the genuine
    /// chain.
    private func resignedHeader(of base: Block, atNext: Bool) throws -> Block {
        var header = base.header.header
        let previousLast = header.height > 0 ? genuine[header.height - 1]?.header.header.lastTimestamp : nil
        let latest = clock.now() + Self.window
        switch random.next() % 9 {
        case 0: header.height = random.hostileUInt64(around: header.height)
        case 1: header.previousHash = random.chance(50) ? .zero : Hash256(bytes: random.bytes(32..<33))!
        case 2: header.merkleRoot = Hash256(bytes: random.bytes(32..<33))!
        case 3: header.treeSize = random.hostileUInt64(around: header.treeSize)
        case 4: header.entryCount = UInt32(truncatingIfNeeded: random.hostileUInt64(around: UInt64(header.entryCount)))
        case 5:
            header.firstTimestamp = random.hostileInt64(around: header.firstTimestamp)
            let refused =
                header.firstTimestamp > header.lastTimestamp || previousLast.map { header.firstTimestamp < $0 } == true
            if atNext, !refused { header.firstTimestamp = header.lastTimestamp + 1 }
        case 6:
            header.lastTimestamp = random.hostileInt64(around: header.lastTimestamp)
            if atNext, header.lastTimestamp >= header.firstTimestamp, header.lastTimestamp <= latest {
                header.lastTimestamp = random.chance(50) ? header.firstTimestamp - 1 : beyondClockWindow()
            }
        case 7: header.stateDigest = Hash256(bytes: random.bytes(32..<33))!
        default: header.gateway = random.pick([stranger.id, hostile.id, .zero])
        }
        return Block(header: try SignedBlockHeader.sign(header, with: honest), entries: base.entries)
    }

    /// A time the super node must not take as a block's end now: just beyond its clock
    /// window, up to a day beyond, anywhere beyond, or the end of `Int64`.
    func beyondClockWindow() -> Int64 {
        let latest = clock.now() + Self.window
        switch random.next() % 4 {
        case 0: return latest + 1
        case 1: return latest + 1 + Int64(random.next() % 86_400_000)
        case 2: return random.pick([.max, .max - 1])
        default: return latest + 1 + Int64(random.next() % UInt64(Int64.max - latest))
        }
    }

    /// The next genuine block ending (and now and then starting) beyond the super node's clock
    /// window, signed again by the gateway key: everything else about it is valid, so it must
    /// be refused as `future-timestamp`, and leave the audit where it was (the genuine block
    /// is still taken: every genuine push checks that).
    func pushFutureBlock() async throws {
        try generateGenuine(upTo: accepted + 1)
        let base = genuine[accepted]!
        var header = base.header.header
        header.lastTimestamp = beyondClockWindow()
        if random.chance(30) { header.firstTimestamp = header.lastTimestamp }
        let block = Block(header: try SignedBlockHeader.sign(header, with: honest), entries: base.entries)
        let outcome = try await push(blocks: [block.wireBytes()], genuineFrom: nil, as: honest)
        if let reason = outcome.rejection?.reason, reason == .futureTimestamp || reason == .tooManyRequests {
            return  // refused for its time, or (after a flood) before any block was looked at
        }
        throw Broken(
            description:
                "block \(header.height) ending at \(header.lastTimestamp) ms, beyond the super node's clock \(clock.now()) ms and its window, was not refused as future-timestamp: \(outcome.rejection.map { "\($0.reason.rawValue): \($0.message)" } ?? "accepted")"
        )
    }

    /// `base` with an entry dropped, repeated, swapped, broken or a hostile one inserted,
    /// under a header whose counts follow and which the honest gateway signs again.
    private func resignedEntries(of base: Block) throws -> Block {
        var header = base.header.header
        var entries = base.entries
        let i = Int(random.next() % UInt64(entries.count))
        switch random.next() % 5 {
        case 0 where entries.count > 1:
            entries.remove(at: i)
            header.entryCount -= 1
            header.treeSize -= 1
        case 1:
            entries.insert(entries[i], at: Int(random.next() % UInt64(entries.count + 1)))
            header.entryCount += 1
            header.treeSize += 1
        case 2 where entries.count > 1:
            let j = (i + 1 + Int(random.next() % UInt64(entries.count - 1))) % entries.count
            entries.swapAt(i, j)
        case 3:
            var signature = Array(entries[i].signature)
            signature[Int(random.next() % 64)] ^= 0x01
            entries[i] = try SignedRecord(body: Array(entries[i].body), signer: entries[i].signer, signature: signature)
        default:
            entries.insert(try hostileEntry(), at: Int(random.next() % UInt64(entries.count + 1)))
            header.entryCount += 1
            header.treeSize += 1
        }
        return Block(header: try SignedBlockHeader.sign(header, with: honest), entries: entries)
    }

    /// An entry for the honest gateway's chain that its rules (or its root) refuse, or that
    /// does not belong in the block it is put in.
    private func hostileEntry() throws -> SignedRecord {
        let now = clock.now()
        let meter = random.pick(consumers + producers)
        switch random.next() % 8 {
        case 0, 1:
            let reading = try Reading(
                meter: meter.id,
                gateway: random.chance(80) ? honest.id : hostile.id,
                sequence: max(1, random.hostileUInt64(around: readingSequence[meter.id] ?? 1)),
                timestamp: random.hostileInt64(around: now),
                values: [MeasuredValue(.energyExportWh, random.hostileInt64(around: 0))]
            )
            return try SignedRecord.sign(.reading(reading), with: random.chance(80) ? meter : stranger)
        case 2:
            let offer = try Offer(
                producer: meter.id,
                sequence: max(1, random.hostileUInt64(around: 1)),
                energyWh: max(1, random.hostileUInt64(around: 1000)),
                validFrom: .min,
                validUntil: .max
            )
            return try SignedRecord.sign(.offer(offer), with: meter)
        case 3:
            let request = try EnergyRequest(
                consumer: meter.id,
                sequence: max(1, random.hostileUInt64(around: 1)),
                energyWh: max(1, random.hostileUInt64(around: 1000)),
                timestamp: random.hostileInt64(around: now)
            )
            return try SignedRecord.sign(.request(request), with: meter)
        case 4:
            return try SignedRecord.sign(
                .enrollment(
                    Enrollment(
                        meterKey: random.chance(50) ? meter.publicIdentity : stranger.publicIdentity,
                        role: .producer,
                        timestamp: now
                    )
                ),
                with: honest
            )
        case 5:
            return try SignedRecord.sign(
                .revocation(Revocation(meterKey: stranger.publicIdentity, role: .consumer, timestamp: now)),
                with: honest
            )
        case 6:
            let dispatch = try Dispatch(
                request: RequestReference(
                    consumer: random.pick(consumers).id,
                    sequence: random.hostileUInt64(around: 1)
                ),
                outcome: .served(
                    producer: random.pick(producers).id,
                    energyWh: max(1, random.hostileUInt64(around: 100)),
                    producerTNTBefore: random.hostileUInt64(around: 0)
                )
            )
            return try SignedRecord.sign(.dispatch(dispatch), with: honest)
        default:
            let policy = PolicyRecord(
                policy: random.chance(50) ? .lowestTNT : .splitTNT,
                offerToleranceWh: random.hostileUInt64(around: 0),
                timestamp: random.hostileInt64(around: now)
            )
            return try SignedRecord.sign(.policy(policy), with: honest)
        }
    }

    // MARK: the hostile gateway

    /// One block of the hostile gateway: whatever its builder takes of a few hostile entries,
    /// and now and then an entry the builder refused, under a header it signs; now and then
    /// written at a time beyond the super node's clock window. A block the builder built
    /// wholly must be accepted (unless the gateway is suspended, which is then lifted now and
    /// then), or refused as `future-timestamp` when written beyond the window; one with a
    /// refused entry must be refused.
    func pushHostileGatewayBlock() async throws {
        let now = clock.now()
        let future = random.chance(8)
        let at = future ? beyondClockWindow() : now
        var fork = hostileBuilder
        var refused: [SignedRecord] = []
        for _ in 0..<(1 + random.next() % 6) {
            guard let entry = try? hostileGatewayEntry(fork) else { continue }
            do {
                _ = try fork.add(signatureChecked: entry, at: at)
                if case let .request(q) = entry.record { _ = try? fork.dispatch(q.reference, at: at) }
            } catch {
                if random.chance(30) { refused.append(entry) }
            }
        }
        let sealed = try fork.seal(at: at)
        let block: Block
        if refused.isEmpty {
            guard let sealed else { return try await pushHostileGatewayBlock() }
            block = sealed
        } else {
            let entries = (sealed?.entries ?? []) + refused
            var forkState = fork.state
            let header = BlockHeader(
                gateway: hostile.id,
                height: hostileBuilder.nextHeight,
                previousHash: hostileBuilder.tip?.hash ?? .zero,
                merkleRoot: sealed?.header.header.merkleRoot ?? .zero,
                treeSize: (sealed?.header.header.treeSize ?? fork.tree.size) + UInt64(refused.count),
                entryCount: UInt32(entries.count),
                firstTimestamp: now,
                lastTimestamp: now,
                stateDigest: forkState.stateDigest(forHeaderVersion: BlockHeader.currentVersion)
            )
            block = Block(header: try SignedBlockHeader.sign(header, with: hostile), entries: entries)
        }
        let outcome = try await push(blocks: [block.wireBytes()], genuineFrom: nil, as: hostile)
        if let new = outcome.accepted.first, !new.replayed {
            guard refused.isEmpty else {
                throw Broken(
                    description:
                        "the super node accepted a hostile-gateway block holding an entry the chain rules refuse"
                )
            }
            guard !future else {
                throw Broken(
                    description:
                        "the super node accepted a hostile-gateway block ending at \(block.header.header.lastTimestamp) ms, beyond its clock \(clock.now()) ms and its window"
                )
            }
            hostileBuilder = fork
        } else if let rejection = outcome.rejection {
            if rejection.index != nil, refused.isEmpty, !(future && rejection.reason == .futureTimestamp) {
                throw Broken(
                    description:
                        "the super node refused a block the hostile gateway's builder built: \(rejection.reason.rawValue): \(rejection.message)"
                )
            }
            if rejection.reason == .suspendedCertificate, random.chance(50) {
                _ = try await Authority.reinstate(
                    store: node.store,
                    gateway: hostile.id,
                    note: "fuzz",
                    now: clock.now()
                )
                outcomes.tally("hostile gateway reinstated")
            }
        }
    }

    /// A hostile entry the hostile gateway's builder may take: a reading with counters at the
    /// extremes, an offer or request of any energy, a policy with any tolerance, meters
    /// enrolled and revoked.
    private func hostileGatewayEntry(_ fork: BlockBuilder) throws -> SignedRecord {
        let now = clock.now()
        let (key, role) = random.pick(hostileMembers)
        switch random.next() % 10 {
        case 0..<4:
            let plausible = fork.state.nextReadingSequence(of: key.id)
            var values = [
                MeasuredValue(.energyImportWh, random.hostileInt64(around: 1000)),
                MeasuredValue(.activePowerW, random.hostileInt64(around: 500)),
            ]
            if role == .producer || random.chance(10) {
                let exported = fork.state.tnt.status(of: key.id)?.exportedWh ?? 0
                values.append(
                    MeasuredValue(.energyExportWh, random.hostileInt64(around: Int64(truncatingIfNeeded: exported)))
                )
            }
            let reading = try Reading(
                meter: key.id,
                gateway: random.chance(90) ? hostile.id : nil,
                sequence: random.chance(85) ? plausible : max(1, random.hostileUInt64(around: plausible)),
                timestamp: random.chance(50) ? now : random.hostileInt64(around: now),
                values: values
            )
            return try SignedRecord.sign(.reading(reading), with: key)
        case 4, 5:
            let from = random.chance(50) ? now : random.hostileInt64(around: now)
            let offer = try Offer(
                producer: key.id,
                sequence: nextHostileTradeSequence(key.id),
                energyWh: random.hostileUInt64(around: 1000),
                validFrom: from,
                validUntil: random.chance(50) ? from &+ 3_600_000 : random.hostileInt64(around: from)
            )
            return try SignedRecord.sign(.offer(offer), with: key)
        case 6, 7:
            let request = try EnergyRequest(
                consumer: key.id,
                sequence: nextHostileTradeSequence(key.id),
                energyWh: random.hostileUInt64(around: 1000),
                timestamp: random.hostileInt64(around: now)
            )
            return try SignedRecord.sign(.request(request), with: key)
        case 8:
            let policy = PolicyRecord(
                policy: random.chance(50) ? .lowestTNT : .splitTNT,
                offerToleranceWh: random.hostileUInt64(around: 1000),
                timestamp: random.hostileInt64(around: now)
            )
            return try SignedRecord.sign(.policy(policy), with: hostile)
        default:
            if hostileMembers.count < 24, random.chance(50) {
                let member = (SigningIdentity(), random.chance(50) ? MeterRole.consumer : .producer)
                hostileMembers.append(member)
                return try SignedRecord.sign(
                    .enrollment(Enrollment(meterKey: member.0.publicIdentity, role: member.1, timestamp: now)),
                    with: hostile
                )
            }
            let active = fork.state.tnt.status(of: key.id)?.active == true
            let record: Record =
                active
                ? .revocation(Revocation(meterKey: key.publicIdentity, role: role, timestamp: now))
                : .enrollment(Enrollment(meterKey: key.publicIdentity, role: role, timestamp: now))
            return try SignedRecord.sign(record, with: hostile)
        }
    }

    private func nextHostileTradeSequence(_ meter: MeterID) -> UInt64 {
        let last = hostileTradeSequence[meter] ?? 0
        let next = random.chance(90) && last < .max ? last + 1 : max(1, random.hostileUInt64(around: last))
        hostileTradeSequence[meter] = max(last, next)
        return next
    }

    // MARK: escalations

    /// One escalation: mostly a consumer of the gateway that signs it, with any energy and
    /// time; also producers, strangers, the other gateway's consumers, requests signed by
    /// the wrong key or not decoding, and the credential variants of pushes.
    func escalate() async throws {
        if random.chance(4), let last = lastEscalation {
            let (_, answer) = try await node.escalate(
                certificate: last.certificate,
                proof: last.proof,
                request: last.request,
                consumerKey: last.consumerKey
            )
            outcomes.record("escalation again \(answer.status):\(answer.reason ?? "-")")
            return
        }
        let now = clock.now()
        let fromHostile = random.chance(25)
        let gateway = fromHostile ? hostile : honest
        let ownConsumers = fromHostile ? hostileMembers.filter { $0.role == .consumer }.map(\.key) : consumers
        let otherConsumers = fromHostile ? consumers : hostileMembers.filter { $0.role == .consumer }.map(\.key)
        let consumer: SigningIdentity
        switch random.next() % 10 {
        case 0..<6: consumer = random.pick(ownConsumers)
        case 6: consumer = fromHostile ? random.pick(hostileMembers).key : random.pick(producers)
        case 7: consumer = stranger
        default: consumer = random.pick(otherConsumers)
        }
        let request = try EnergyRequest(
            consumer: consumer.id,
            sequence: random.chance(80) ? 1 + random.next() % 1000 : max(1, random.hostileUInt64(around: 1)),
            energyWh: random.chance(60) ? 1 + random.next() % 2000 : max(1, random.hostileUInt64(around: 1000)),
            timestamp: random.chance(70) ? now : random.hostileInt64(around: now)
        )
        let record: [UInt8]
        switch random.next() % 14 {
        case 0: record = random.bytes(0..<300)
        case 1:
            let reading = try Reading(
                meter: consumer.id,
                sequence: 1,
                timestamp: now,
                values: [MeasuredValue(.activePowerW, 1)]
            )
            record = try SignedRecord.sign(.reading(reading), with: consumer).bytes
        case 2: record = try SignedRecord.sign(.request(request), with: stranger).bytes
        case 3:
            // Energy that no request may carry (0, or a negative number's bit pattern), signed
            // by the consumer over exactly those bytes.
            var body = request.canonicalBytes()
            let energy = random.pick([UInt64(0), UInt64(bitPattern: -1), UInt64(bitPattern: .min), UInt64(Int64.max)])
            for i in 0..<8 { body[26 + i] = UInt8(truncatingIfNeeded: energy >> UInt64(56 - 8 * i)) }
            record = envelope(body: body, signer: consumer.id, signature: try consumer.sign(body))
        case 4:
            let signed = try SignedRecord.sign(.request(request), with: consumer)
            record = Array(signed.bytes).flippingOneBit(using: &random)
        default: record = try SignedRecord.sign(.request(request), with: consumer).bytes
        }
        let consumerKey: String
        switch random.next() % 20 {
        case 0: consumerKey = KeyFile.publicKeyLine(stranger.publicIdentity)
        case 1: consumerKey = "ed25519 " + Data(random.bytes(0..<40)).base64EncodedString()
        case 2: consumerKey = ""
        default: consumerKey = KeyFile.publicKeyLine(consumer.publicIdentity)
        }
        var certificate: [UInt8]? = (fromHostile ? hostileCertificate : honestCertificate).bytes
        var signer = gateway
        var stamp = StampKind.valid
        switch random.next() % 20 {
        case 0: certificate = random.chance(50) ? nil : random.bytes(1..<200)
        case 1: certificate = untrusted.bytes
        case 2:
            certificate = revoked.bytes
            signer = revokedKey
        case 3: certificate = unregistered.bytes
        case 4, 5: stamp = randomHostileStampForEscalation()
        default: break
        }
        let body = Array(
            try JSONEncoder().encode(
                EscalationSubmission(
                    certificate: certificate.map { Data($0).base64EncodedString() } ?? "",
                    request: Data(record).base64EncodedString(),
                    consumerKey: consumerKey
                )
            )
        )
        let proof = try self.proof(stamp, signer: signer, endpoint: SuperNodeRoutes.escalations, body: body)
        let (_, answer) = try await node.escalate(
            certificate: certificate,
            proof: proof,
            request: record,
            consumerKey: consumerKey
        )
        outcomes.record("escalation \(answer.status):\(answer.reason ?? "-")")
        if answer.status == "served" {
            throw Broken(description: "an escalation was served though no gateway announced where to reach it")
        }
        let credentialReasons: Set<String> = [
            "missing-certificate", "malformed-certificate", "untrusted-certificate", "unknown-certificate",
            "revoked-certificate", "suspended-certificate", "missing-signature", "malformed-signature", "bad-signature",
            "stale-request", "replayed-request", "too-many-requests",
        ]
        if !credentialReasons.contains(answer.reason ?? "") {
            lastEscalation = (certificate, proof, record, consumerKey)
        }
    }

    private func randomHostileStampForEscalation() -> StampKind {
        switch random.next() % 6 {
        case 0: return .missing
        case 1: return .byStranger
        case 2: return .otherRoute
        case 3: return .otherBody
        case 4: return .truncated
        default: return .at(random.hostileInt64(around: clock.now()))
        }
    }

    /// A signed record envelope around `body`, assembled byte by byte (whether or not the
    /// body decodes): `0xE0 ‖ 0x01 ‖ signer ‖ length (u32) ‖ body ‖ signature`.
    private func envelope(body: [UInt8], signer: KeyID, signature: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count)
        return [0xE0, 0x01] + signer.bytes + (0..<4).map { UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * $0)) }
            + body + signature
    }
}

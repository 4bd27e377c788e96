import ArgumentParser
import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import LedgerStore
import OperatorKit

struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract:
            "Show the chain: blocks | block N | meter ID | anomalies | receipt METER SEQ | checkpoints | tnt | dispatches | fairness.",
        discussion: """
            Reads the store and the pending journal directly (safe while the server runs). --json prints the same JSON as the HTTP API.

            receipt METER SEQ: the reading's record, block header, Merkle proof and, once the super node has checkpointed the block, its checkpoint (check it offline with `edge-gateway verify-receipt`).
            checkpoints: the super node's checkpoints stored by the uplink, from --from HEIGHT (default: the newest --limit), and how many sealed blocks wait for one.
            tnt: the TNT table at the chain tip plus the pending entries (the store is replayed), producers in the order the rule considers them (TNT, then id).
            dispatches: the newest --limit dispatches (or, with --from INDEX, from that entry index on), with the request each answers; --consumer ID for one consumer's.
            fairness [--from TIME] [--until TIME]: fairness of dispatch in the window from ≤ t < until (ms since the Unix epoch or ISO 8601, e.g. 2026-01-01T00:00:00Z; either bound may be left open). A sealed dispatch belongs to the window when the last timestamp of the block holding it does (the chain records no time per entry), a pending one by its journal time. Measured over the producers active at the window's end, those that served nothing counting as 0: dispatch spread, TNT spread now, Jain's index, Gini coefficient and Robin Hood (Hoover) index of energy served.
            """
    )

    @OptionGroup var data: DataOption

    @Flag(help: "Print JSON (the HTTP API's views) instead of text.")
    var json = false

    @Option(
        help: ArgumentHelp(
            "blocks, anomalies, dispatches: first block height / entry index to show; fairness: window start, ms since the Unix epoch or ISO 8601.",
            valueName: "n|time"
        )
    )
    var from: String?

    @Option(
        help: ArgumentHelp("fairness: window end (exclusive), ms since the Unix epoch or ISO 8601.", valueName: "time")
    )
    var until: String?

    @Option(help: ArgumentHelp("dispatches: only this consumer's (meter id, 32 hex digits).", valueName: "id"))
    var consumer: String?

    @Option(help: "blocks, anomalies, dispatches: how many to show.")
    var limit: Int = 50

    @Argument(
        help:
            "What to show: blocks | block N | meter ID | anomalies | receipt METER SEQ | checkpoints | tnt | dispatches | fairness."
    )
    var what: String

    @Argument(help: "Arguments of what to show.")
    var arguments: [String] = []

    func validate() throws {
        let needs: [String: Int] = [
            "blocks": 0, "anomalies": 0, "block": 1, "meter": 1, "receipt": 2, "checkpoints": 0, "tnt": 0,
            "dispatches": 0, "fairness": 0,
        ]
        guard let n = needs[what] else {
            throw ValidationError(
                "unknown inspect target '\(what)'; use blocks, block N, meter ID, anomalies, receipt METER SEQ, checkpoints, tnt, dispatches or fairness"
            )
        }
        guard arguments.count == n else {
            throw ValidationError(
                "inspect \(what) takes \(n == 0 ? "no arguments" : n == 1 ? "one argument" : "two arguments")"
            )
        }
        try validateTradeOptions()
    }

    /// `--from` as a block height or entry index (every target but fairness).
    var fromIndex: UInt64? { from.flatMap { UInt64($0) } }

    func run() async throws {
        let chain = try ReadOnlyChain(data.directory)
        let queries = ChainQueries(store: chain.store, checkpoints: chain.checkpoints)
        switch what {
        case "blocks":
            let list = try queries.blocks(from: fromIndex, limit: limit)
            if json { return try emit(list) }
            print("height  entries  first (UTC)               last (UTC)                hash")
            for b in list.blocks {
                print(
                    "\(pad(b.height, 6))  \(pad(b.entryCount, 7))  \(isoTime(b.firstTimestamp).padding(toLength: 24, withPad: " ", startingAt: 0))  \(isoTime(b.lastTimestamp).padding(toLength: 24, withPad: " ", startingAt: 0))  \(b.hash.prefix(16))…"
                )
            }
            print(
                "\(list.tip.map { "\($0 + 1) blocks" } ?? "no blocks yet"); \(chain.journalCount()) acknowledged entries pending in the journal"
            )
        case "block":
            guard let height = UInt64(arguments[0]) else {
                throw OperatorError("block height must be a non-negative integer, not '\(arguments[0])'")
            }
            guard let block = try queries.block(height) else {
                throw OperatorError(
                    "no block at height \(height) (the chain has \(try chain.store.blockCount()) blocks)"
                )
            }
            if json { return try emit(block) }
            let h = block.header
            print("block \(h.height)  hash \(h.hash)")
            print(
                "  previous   \(h.previousHash)\n  merkle     \(h.merkleRoot)\n  tree size  \(h.treeSize)\n  entries    \(h.entryCount)"
            )
            print(
                "  first      \(isoTime(h.firstTimestamp))\n  last       \(isoTime(h.lastTimestamp))\n  state      \(h.stateDigest) (header version \(h.version))\n  gateway    \(h.gateway)"
            )
            for e in block.entries { print("  " + describe(e)) }
        case "meter":
            guard let id = MeterID(hex: arguments[0]) else {
                throw OperatorError("a meter id is 32 hex digits, not '\(arguments[0])'")
            }
            try showMeter(id, chain)
        case "anomalies":
            let list = try queries.anomalies(from: fromIndex ?? 0, limit: limit, pending: chain.journalEntries())
            if json { return try emit(list) }
            if list.anomalies.isEmpty { print("no anomalies") }
            for a in list.anomalies {
                let place = a.height.map { "block \($0)" } ?? "pending"
                print(
                    "#\(a.index) \(place) \(a.anomaly.time) (\(a.anomaly.kind)) meter \(a.anomaly.subject): \(a.anomaly.detail)"
                )
            }
        case "receipt":
            guard let id = MeterID(hex: arguments[0]), let seq = UInt64(arguments[1]) else {
                throw OperatorError("usage: inspect receipt METER-ID SEQUENCE (32 hex digits and a number)")
            }
            try showReceipt(id, seq, chain, queries)
        case "checkpoints":
            try showCheckpoints(chain)
        case "tnt", "dispatches", "fairness":
            print(try tradeReport(chain))
        default:
            break
        }
    }

    private func showMeter(_ id: MeterID, _ chain: ReadOnlyChain) throws {
        // The later of the meter's last enrollment and last revocation decides whether it is active.
        let enrollments = try chain.store.entries(ofType: .enrollment, limit: 1_000_000).filter {
            if case let .enrollment(e) = $0.entry.record { return e.meter == id } else { return false }
        }
        let revocations = try chain.store.entries(ofType: .revocation, limit: 1_000_000).filter {
            if case let .revocation(r) = $0.entry.record { return r.meter == id } else { return false }
        }
        var info: MeterInfo?
        if let first = enrollments.first, case let .enrollment(e) = first.entry.record {
            info = MeterInfo(
                key: e.meterKey,
                role: e.role,
                active: (enrollments.last?.index ?? 0) > (revocations.last?.index ?? 0) || revocations.isEmpty,
                enrolledAt: e.timestamp
            )
        }
        guard var meter = info else { throw OperatorError("meter \(id.hex) is not enrolled on this chain") }
        let latest = try chain.store.latestReading(meter: id)
        if case let .reading(r)? = latest?.entry.record { meter.lastReading = r }
        var lastSeq: UInt64 = meter.lastReading?.sequence ?? 0
        let pendingReadings = chain.journalEntries().filter {
            if case let .reading(r) = $0.entry.record { return r.meter == id } else { return false }
        }
        if case let .reading(r)? = pendingReadings.last?.entry.record { lastSeq = r.sequence }
        let view = MeterView(id: id, info: meter, lastSequence: lastSeq)
        if json { return try emit(view) }
        print(
            "meter \(view.id)\n  key        \(view.publicKey)\n  role       \(view.role)\n  active     \(view.active ? "yes" : "no (revoked)")"
        )
        print(
            "  enrolled   \(isoTime(view.enrolledAt))\n  last seq   \(view.lastSequence)\(pendingReadings.isEmpty ? "" : " (\(pendingReadings.count) pending, not yet sealed)")"
        )
        if let r = meter.lastReading {
            let values = ReadingView(r).values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: " "
            )
            print(
                "  last sealed reading \(r.sequence) at \(isoTime(r.timestamp)) (block \(latest!.height)): \(values)\(r.status.contains(.tamper) ? " TAMPER" : "")"
            )
        }
    }

    private func showReceipt(_ id: MeterID, _ seq: UInt64, _ chain: ReadOnlyChain, _ queries: ChainQueries) throws {
        if let archived = try queries.archivedReadingNote(meter: id, sequence: seq) {
            throw OperatorError(archived)
        }
        guard try chain.store.reading(meter: id, sequence: seq) != nil else {
            let pending = chain.journalEntries().contains {
                if case let .reading(r) = $0.entry.record {
                    return r.meter == id && r.sequence == seq
                } else {
                    return false
                }
            }
            throw OperatorError(
                pending
                    ? "reading \(seq) of meter \(id.hex) is accepted but not yet sealed into a block; try again after the next seal"
                    : "no reading \(seq) of meter \(id.hex) on this chain"
            )
        }
        guard
            let receipt = try queries.receipt(
                meter: id,
                sequence: seq,
                gatewayKey: chain.gatewayKey,
                proof: { index, size in try chain.store.inclusionProof(index: index, treeSize: size) }
            )
        else { throw OperatorError("no reading \(seq) of meter \(id.hex) on this chain") }
        let proofHolds =
            receipt.proof.proof?.verify(
                entry: Array(Data(base64Encoded: receipt.record) ?? Data()),
                root: Hash256(hex: receipt.block.header.merkleRoot) ?? .zero
            ) == true
        guard proofHolds, let header = try chain.store.header(atHeight: receipt.block.height),
            header.isSignatureValid(by: chain.gatewayKey)
        else {
            throw OperatorError(
                "the stored entries or header of block \(receipt.block.height) do not match its signed Merkle root: the store was altered; run `edge-gateway verify`"
            )
        }
        if json { return try emit(receipt) }
        print("receipt for reading \(seq) of meter \(id.hex)")
        print("  entry      \(receipt.entryIndex) in block \(receipt.block.height) (hash \(receipt.block.header.hash))")
        print(
            "  leaf hash  \(receipt.leafHash)\n  root       \(receipt.block.header.merkleRoot) (tree size \(receipt.proof.treeSize))"
        )
        print("  proof      \(receipt.proof.path.count) hashes: \(receipt.proof.path.joined(separator: " "))")
        print(
            "  record     \(receipt.record)\n  header     \(receipt.block.signedHeader)\n  gateway    \(receipt.gatewayKey)"
        )
        if let c = receipt.checkpoint {
            print(
                "  checkpoint block \(c.height) checkpointed by the super node (root key \(c.issuer)) at \(c.checkpointedTime), certificate serial \(c.certificateSerial)"
            )
            print("             \(c.checkpoint)")
        } else {
            print(
                "  checkpoint none yet: block \(receipt.block.height) is not checkpointed by the super node (the uplink pushes it once the super node is reachable; `inspect checkpoints`)"
            )
        }
        print(
            "  verified   proof and header signature ok"
                + (receipt.checkpoint == nil
                    ? ""
                    : "; check the checkpoint offline with `edge-gateway verify-receipt FILE --root-key ROOT.pub` on the --json output")
        )
    }

    private func describe(_ e: EntryView) -> String {
        let r = e.record
        if let x = r.reading {
            return "#\(e.index) reading meter \(x.meter) seq \(x.sequence) at \(x.time)\(x.tamper ? " TAMPER" : "") "
                + x.values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        if let a = r.anomaly { return "#\(e.index) anomaly (\(a.kind)) meter \(a.subject): \(a.detail)" }
        if let m = r.enrollment { return "#\(e.index) enrollment meter \(m.meter) as \(m.role)" }
        if let m = r.revocation { return "#\(e.index) revocation meter \(m.meter) (\(m.role))" }
        if let c = r.ocmfCommitment {
            return
                "#\(e.index) ocmf-commitment meter \(c.meter) T\(c.pagination) period \(isoTime(c.periodStart)) … \(isoTime(c.periodEnd)) sha256 \(c.ocmfHash)"
        }
        return "#\(e.index) \(r.type) signed by \(e.signer)"
    }

    private func pad(_ v: some CustomStringConvertible, _ n: Int) -> String {
        let s = v.description
        return String(repeating: " ", count: max(0, n - s.count)) + s
    }

    private func emit(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

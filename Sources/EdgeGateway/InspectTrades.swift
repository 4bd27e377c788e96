import ArgumentParser
import Foundation
import GatewayCore
import GridAPI
import LedgerLite
import OperatorKit

/// `edge-gateway inspect tnt | dispatches | fairness`: the read side of energy trading,
/// from the store and the pending journal (safe while the server runs).
extension InspectCommand {
    func validateTradeOptions() throws {
        if let from, what != "fairness", UInt64(from) == nil {
            throw ValidationError(
                "--from must be a block height or entry index (a non-negative integer) for inspect \(what), not '\(from)'"
            )
        }
        if what == "fairness" {
            for (name, value) in [("--from", from), ("--until", until)] {
                if let value, Gateway.time(value) == nil {
                    throw ValidationError(
                        "\(name) '\(value)' is not a time: give ms since the Unix epoch or ISO 8601 (2026-01-01T00:00:00Z)"
                    )
                }
            }
            if let start = from.flatMap({ Gateway.time($0) }), let end = until.flatMap({ Gateway.time($0) }),
                start >= end
            {
                throw ValidationError("the window is empty: --from must be before --until")
            }
        } else if until != nil {
            throw ValidationError("--until applies to inspect fairness only")
        }
        if let consumer {
            guard what == "dispatches" else { throw ValidationError("--consumer applies to inspect dispatches only") }
            guard MeterID(hex: consumer) != nil else {
                throw ValidationError("--consumer must be a meter id of 32 hex digits, not '\(consumer)'")
            }
        }
        if what == "dispatches", limit < 1 || limit > 1000 {
            throw ValidationError("--limit must be 1 to 1000")
        }
    }

    /// The text (or with --json, the JSON) `inspect tnt|dispatches|fairness` prints.
    func tradeReport(_ chain: ReadOnlyChain) throws -> String {
        let queries = ChainQueries(store: chain.store)
        switch what {
        case "tnt":
            let snapshot = try chain.tradeSnapshot()
            let view = TNTView(snapshot.tnt)
            return json ? try Self.encode(view) : Self.tntText(view, snapshot: snapshot)
        case "dispatches":
            let pending = try chain.unsealedEntries()
            let id = consumer.flatMap(MeterID.init(hex:))
            let list =
                try fromIndex.map { try queries.dispatches(from: $0, limit: limit, consumer: id, pending: pending) }
                ?? queries.latestDispatches(limit: limit, consumer: id, pending: pending)
            return json ? try Self.encode(list) : Self.dispatchesText(list, pending: pending.count)
        case "fairness":
            let snapshot = try chain.tradeSnapshot()
            let view = try queries.fairness(
                from: from.flatMap({ Gateway.time($0) }),
                until: until.flatMap({ Gateway.time($0) }),
                current: snapshot.tnt,
                pending: snapshot.pending
            )
            return json ? try Self.encode(view) : Self.fairnessText(view)
        default:
            throw OperatorError("inspect \(what) is not a trading view")
        }
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    // MARK: text

    static func tntText(_ view: TNTView, snapshot: TradeSnapshot) -> String {
        var lines = [
            "TNT table after \(snapshot.blocks) blocks and \(snapshot.pending.count) pending entries: policy \(view.policy), offer tolerance \(view.offerToleranceWh) Wh"
        ]
        if view.producers.isEmpty {
            lines.append("no producers enrolled")
        } else {
            lines.append("producers in the order the rule considers them (TNT, then id):")
            lines.append(
                row(
                    ["producer", "active", "TNT", "available Wh", "served Wh", "credited Wh", "export Wh"],
                    widths: [-32, -6, 5, 12, 10, 11, 10]
                )
            )
            for p in view.producers {
                lines.append(
                    row(
                        [
                            p.meter, p.active ? "yes" : "no", "\(p.tnt)", "\(p.availableWh)", "\(p.servedWh)",
                            "\(p.creditedWh)", "\(p.exportedWh)",
                        ],
                        widths: [-32, -6, 5, 12, 10, 11, 10]
                    )
                )
            }
        }
        if !view.openRequests.isEmpty {
            lines.append(
                "requests without a dispatch yet: "
                    + view.openRequests.map { "\($0.consumer) #\($0.sequence) \($0.energyWh) Wh" }.joined(
                        separator: ", "
                    )
            )
        }
        return lines.joined(separator: "\n")
    }

    static func dispatchesText(_ list: DispatchListView, pending: Int) -> String {
        guard !list.dispatches.isEmpty else { return "no dispatches" }
        let widths = [6, -7, -32, 4, 12, -10, 0]
        var lines = [row(["index", "block", "consumer", "seq", "requested Wh", "policy", "outcome"], widths: widths)]
        for d in list.dispatches {
            lines.append(
                row(
                    [
                        "\(d.index)", d.height.map { "\($0)" } ?? "pending", d.consumer, "\(d.requestSequence)",
                        d.requestedWh.map { "\($0)" } ?? "?", d.policy, outcomeText(d),
                    ],
                    widths: widths
                )
            )
        }
        if let next = list.next { lines.append("more: --from \(next)") }
        return lines.joined(separator: "\n")
    }

    static func outcomeText(_ d: DispatchEntryView) -> String {
        let shares = d.shares.map { "\($0.producer) \($0.energyWh) Wh (TNT \($0.tntBefore)→\($0.tntAfter))" }
        switch d.outcome {
        case "served": return "served by " + shares.joined()
        case "split": return "split: " + shares.joined(separator: ", ")
        default: return d.outcome
        }
    }

    static func fairnessText(_ v: FairnessView) -> String {
        let window =
            "from \(v.fromTime ?? "the chain's start") until \(v.untilTime ?? "now (pending entries included)")"
        var lines = [
            "fairness of dispatch \(window)",
            "\(v.dispatches) dispatches in the window (\(v.served) served, \(v.unserved) unserved); measured over the \(v.producerCount) producers active at its end",
        ]
        if !v.producers.isEmpty {
            let widths = [-32, 10, 10, 8, 0]
            lines.append(row(["producer", "dispatches", "energy Wh", "TNT now", ""], widths: widths))
            for p in v.producers {
                lines.append(
                    row(
                        [
                            p.producer, "\(p.dispatches)", "\(p.energyWh)", "\(p.tnt)",
                            p.counted ? "" : "(not active at the window's end: not counted)",
                        ],
                        widths: widths
                    )
                )
            }
        }
        let f = { (x: Double) in String(format: "%.4f", x) }
        lines += [
            "dispatch spread   \(v.dispatchSpread)".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "max − min of the producers' dispatch counts in the window (0: all picked equally often)",
            "TNT spread now    \(v.currentTNTSpread)".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "max − min of the active producers' TNT (requests served since the chain began)",
            "Jain's index      \(f(v.energyJain))".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "(Σx)² / (n·Σx²) of energy served: 1 when all served the same, 1/n when one served it all",
            "Gini coefficient  \(f(v.energyGini))".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n·Σx) of energy served: 0 when all served the same, (n−1)/n when one served it all",
            "Robin Hood index  \(f(v.energyHoover))".padding(toLength: 26, withPad: " ", startingAt: 0)
                + "Σ|x − mean| / (2·Σx) (Hoover): the share of energy served that would have to move to make all equal",
            "(sealed dispatches count by the last timestamp of their block, pending ones by their journal time)",
        ]
        return lines.joined(separator: "\n")
    }

    /// Columns: a positive width right-aligns, a negative one left-aligns, 0 leaves as is.
    static func row(_ cells: [String], widths: [Int]) -> String {
        var line = zip(cells, widths).map { cell, width in
            let pad = String(repeating: " ", count: max(0, abs(width) - cell.count))
            return width >= 0 ? pad + cell : cell + pad
        }.joined(separator: "  ")
        while line.hasSuffix(" ") { line.removeLast() }
        return line
    }
}

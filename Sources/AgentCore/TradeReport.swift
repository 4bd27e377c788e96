import Foundation
import GridAPI
import LedgerLite

/// What `meter-agent offer` and `meter-agent request` print and how they exit.
///
/// Exit status: 0 offer accepted, request served (or the same record was already
/// recorded: duplicate); 3 request unserved; 4 try again later (gateway unreachable, or it
/// answered `retry`); 1 rejected or any other error (the line on standard error says
/// why and what to do); 64 a bad flag (ArgumentParser).
package struct TradeReport: Equatable {
    package enum Exit: Int32 {
        case success = 0
        case failure = 1
        case unserved = 3
        case tryLater = 4
    }

    /// For standard output: the decision, for people or as one JSON object.
    package var output: String?
    /// For standard error: one line naming the problem and the fix.
    package var error: String?
    package var exit: Exit

    // MARK: offers

    package static func offer(_ response: OfferResponse, json: Bool) throws -> TradeReport {
        let exit: Exit
        var error: String?
        switch response.status {
        case .accepted, .duplicate:
            exit = .success
        case .retry:
            exit = .tryLater
            error =
                "the gateway did not record the offer this time\(because(response.reason, response.detail)); send it again later"
        default:
            exit = .failure
            error =
                "the gateway rejected the offer\(because(response.reason, response.detail))\(hint(response.reason, record: "offer"))"
        }
        return TradeReport(
            output: json ? try encode(response) : exit == .success ? human(response) : nil,
            error: error,
            exit: exit
        )
    }

    package static func human(_ r: OfferResponse) -> String {
        let sequence = r.sequence.map { " \($0)" } ?? ""
        var lines = ["offer\(sequence) \(r.status == .duplicate ? "already recorded (duplicate)" : "accepted")"]
        if let producer = r.producer { lines.append("  producer   \(producer)") }
        if let offered = r.offeredWh { lines.append("  offered    \(offered) Wh") }
        if let credited = r.creditedWh {
            let cut = r.cutWh ?? 0
            lines.append(
                "  credited   \(credited) Wh"
                    + (cut > 0 ? " (cut \(cut) Wh: more than the gateway has metered from this meter)" : "")
            )
        }
        if let available = r.availableWh { lines.append("  available  \(available) Wh") }
        if let block = r.blockHeight { lines.append("  block      \(block)") }
        return lines.joined(separator: "\n")
    }

    // MARK: requests

    package static func request(_ response: DispatchResponse, json: Bool) throws -> TradeReport {
        let exit: Exit
        var error: String?
        switch response.status {
        case .served:
            exit = .success
        case .duplicate:
            exit = response.shares.isEmpty ? .unserved : .success
        case .unserved:
            exit = .unserved
        case .retry:
            exit = .tryLater
            error =
                "the gateway did not record the request this time\(because(response.reason, response.detail)); send it again later"
        default:
            exit = .failure
            error =
                "the gateway rejected the request\(because(response.reason, response.detail))\(hint(response.reason, record: "request"))"
        }
        let decided = exit == .success || exit == .unserved
        return TradeReport(
            output: json ? try encode(response) : decided ? human(response) : nil,
            error: error,
            exit: exit
        )
    }

    package static func human(_ r: DispatchResponse) -> String {
        let sequence = r.sequence.map { " \($0)" } ?? ""
        let block = r.blockHeight.map { " in block \($0)" } ?? ""
        let duplicate = r.status == .duplicate ? " (duplicate: already recorded)" : ""
        guard !r.shares.isEmpty else {
            let amount = r.requestedWh.map { " for \($0) Wh" } ?? ""
            return "request\(sequence)\(amount) unserved\(block)\(duplicate)\(because(r.reason, r.detail))"
        }
        // Saturating: the figures come from the network.
        let total = r.shares.reduce(UInt64(0)) { sum, share in
            let (next, overflow) = sum.addingReportingOverflow(share.energyWh)
            return overflow ? .max : next
        }
        var lines = ["request\(sequence) served: \(total) Wh\(block)\(duplicate)"]
        let width = r.shares.map { String($0.energyWh).count }.max() ?? 0
        for share in r.shares {
            let amount = String(share.energyWh)
            // TNT after 0 means the gateway does not know the (remote) producer's TNT.
            let tnt = share.tntAfter == 0 ? "" : "  TNT \(share.tntBefore) → \(share.tntAfter)"
            lines.append(
                "  \(share.producer)  \(String(repeating: " ", count: width - amount.count))\(amount) Wh\(tnt)"
            )
        }
        if let e = r.escalation, e.result == "served" {
            let decision = e.decisionID.map { ", decision \($0)" } ?? ""
            lines.append("  escalated by the super node: producer of gateway \(e.producerGateway ?? "?")\(decision)")
        }
        if let policy = r.policy, r.shares.count > 1 { lines.append("  policy \(policy)") }
        return lines.joined(separator: "\n")
    }

    // MARK: errors

    /// No decision at all: the gateway could not be reached or answered something else.
    package static func failed(_ error: TradeError) -> TradeReport {
        TradeReport(output: nil, error: error.description, exit: error.isTemporary ? .tryLater : .failure)
    }

    private static func because(_ reason: TradeReason?, _ detail: String?) -> String {
        switch (reason, detail.flatMap { $0.isEmpty ? nil : $0 }) {
        case let (reason?, detail?): " (\(reason.rawValue)): \(detail)"
        case let (reason?, nil): " (\(reason.rawValue))"
        case let (nil, detail?): ": \(detail)"
        case (nil, nil): ""
        }
    }

    /// What to do about a rejection.
    package static func hint(_ reason: TradeReason?, record: String) -> String {
        let producer = record == "offer"
        switch reason {
        case .unknownMeter?:
            return
                "; enroll the meter first: edge-gateway enroll --meter-key KEY.pub --role \(producer ? "producer" : "consumer")"
        case .revokedMeter?:
            return "; this meter's key was revoked: make a new one (meter-agent keygen) and enroll it"
        case .wrongRole?:
            return producer
                ? "; offers come from meters enrolled as producers (a consumer asks with `meter-agent request`)"
                : "; requests come from meters enrolled as consumers (a producer offers with `meter-agent offer`)"
        case .badSignature?:
            return "; the signature does not match: check that --key is this meter's enrolled private key"
        case .staleSequence?:
            return
                "; the gateway holds a later offer or request of this meter: pass a higher --sequence (the default, the Unix time in ms, fails when the clock went back)"
        case .conflictingDuplicate?:
            return "; another \(record) of this meter has this sequence number: pass a new --sequence (or leave it out)"
        case .timestampSkew?:
            return producer
                ? "; the offer's interval has already ended or this machine's clock is off: check the clock (NTP) and --valid-for"
                : "; this machine's clock differs too much from the gateway's: check the clock (NTP)"
        case .noMeteredProduction?:
            return
                "; the gateway credits offers only against export it has metered from this meter: let `meter-agent run` forward its readings first, or offer less"
        case .malformed?, .wrongRecordType?:
            return "; meter-agent and edge-gateway disagree on the format: use the same version of both"
        case .insufficientEnergy?, .storage?, nil:
            return ""
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

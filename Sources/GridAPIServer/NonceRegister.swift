import LedgerLite

/// The nonces each signer (a gateway at the super node, a meter at its gateway) used in its
/// signed requests, kept only while they could be sent again: a stamp is accepted within
/// `window` of the server's clock either way, so a nonce stamped at `t` is forgotten once the
/// clock passes `t + window`; older copies are refused for their time. Memory is bounded
/// twice: by time, and by `limit` nonces per signer (only requests whose signature verified
/// are recorded, so only a known key can fill its own share).
package struct NonceRegister: Sendable {
    /// Why a nonce is not taken.
    package enum Refusal: Error, Equatable {
        /// The signer used this nonce before, within the window.
        case seen
        /// The signer has `limit` nonces within the window already.
        case full
    }

    /// How long a stamp stays acceptable on either side of the clock, ms.
    package let window: Int64
    /// Most nonces kept per signer.
    package let limit: Int
    private var signers: [KeyID: Nonces] = [:]

    /// One signer's nonces, with the second each may be forgotten at (buckets of a
    /// second, so pruning looks at a few hundred buckets, never at every nonce).
    private struct Nonces {
        var seen: Set<[UInt8]> = []
        var expiring: [Int64: [[UInt8]]] = [:]
    }

    package init(window: Int64, limit: Int) {
        self.window = window
        self.limit = limit
    }

    /// Records `nonce` of `signer`, stamped at `timestamp` (already checked to be within
    /// the window of `now`).
    /// - Throws: `Refusal.seen` or `Refusal.full`; nothing is recorded then.
    package mutating func take(_ nonce: [UInt8], signer: KeyID, timestamp: Int64, now: Int64) throws(Refusal) {
        prune(now: now)
        var nonces = signers[signer] ?? Nonces()
        guard !nonces.seen.contains(nonce) else { throw .seen }
        guard nonces.seen.count < limit else { throw .full }
        nonces.seen.insert(nonce)
        nonces.expiring[Self.second(timestamp + window), default: []].append(nonce)
        signers[signer] = nonces
    }

    /// Nonces kept now, over every signer.
    package var count: Int { signers.values.reduce(0) { $0 + $1.seen.count } }

    /// Forgets every nonce whose stamp is now outside the window.
    private mutating func prune(now: Int64) {
        let current = Self.second(now)
        for (signer, var nonces) in signers {
            let expired = nonces.expiring.keys.filter { $0 < current }
            guard !expired.isEmpty else { continue }
            for second in expired {
                for nonce in nonces.expiring.removeValue(forKey: second) ?? [] { nonces.seen.remove(nonce) }
            }
            signers[signer] = nonces.seen.isEmpty ? nil : nonces
        }
    }

    /// The second a time falls in (rounded down, so a nonce is kept up to a second longer than needed).
    private static func second(_ ms: Int64) -> Int64 {
        ms >= 0 ? ms / 1000 : (ms - 999) / 1000
    }
}

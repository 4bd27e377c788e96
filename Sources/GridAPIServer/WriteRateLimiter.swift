import NIOCore
import Synchronization

/// How fast one source may write (`serve --write-rate`, `--write-burst`): a token bucket per
/// source that holds `burst` requests and refills at `perSecond`.
package struct WriteRate: Sendable, Equatable {
    /// Sustained write requests per second per source.
    package var perSecond: Double
    /// Write requests a source may send at once after a quiet spell.
    package var burst: Int

    /// 1,000 a second, bursts of 2,000: far above a legitimate client (an agent forwarding
    /// for 1,000 meters sends about one batch a second, and when it catches up after an outage
    /// it sends one batch at a time; the ingest benchmark's 64 agents on one address send
    /// about 160 a second), far below what a flood of small requests would make.
    package static let standard = WriteRate(perSecond: 1000, burst: 2000)

    package init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// Counts write requests per source against a `WriteRate` and says when a source that sent
/// too many may send again. The table of sources is bounded: when it is full, sources whose
/// buckets have refilled are forgotten (they are indistinguishable from new ones), and if
/// none has, new sources share one overflow bucket until some do.
package final class WriteRateLimiter: Sendable {
    package let rate: WriteRate
    private let maxSources: Int
    private let state: Mutex<State>

    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var overflow: Bucket?
        var lastSweep: ContinuousClock.Instant?
    }

    /// The key under which sources beyond the table's capacity share one bucket.
    static let overflowSource = "overflow"

    package init(rate: WriteRate, maxSources: Int = 65_536) {
        precondition(rate.perSecond > 0 && rate.burst >= 1 && maxSources >= 1, "a write rate is positive")
        self.rate = rate
        self.maxSources = maxSources
        self.state = Mutex(State())
    }

    /// Takes one request of `source` at `now`: nil when it may go ahead, else how long until
    /// the source has a request again (what `Retry-After` says).
    package func admit(_ source: String, at now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLock { state in
            if state.buckets[source] == nil, state.buckets.count >= maxSources { forgetRefilled(&state, at: now) }
            if state.buckets[source] == nil, state.buckets.count >= maxSources {
                var shared = state.overflow ?? Bucket(tokens: Double(rate.burst), updated: now)
                let wait = take(&shared, at: now)
                state.overflow = shared
                return wait
            }
            var bucket = state.buckets[source] ?? Bucket(tokens: Double(rate.burst), updated: now)
            let wait = take(&bucket, at: now)
            state.buckets[source] = bucket
            return wait
        }
    }

    /// Sources tracked now (for tests and metrics).
    package var trackedSources: Int { state.withLock { $0.buckets.count } }

    private func take(_ bucket: inout Bucket, at now: ContinuousClock.Instant) -> Duration? {
        refill(&bucket, at: now)
        if bucket.tokens >= 1 {
            bucket.tokens -= 1
            return nil
        }
        let seconds = (1 - bucket.tokens) / rate.perSecond
        return .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    private func refill(_ bucket: inout Bucket, at now: ContinuousClock.Instant) {
        guard now > bucket.updated else { return }
        let elapsed = bucket.updated.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        bucket.tokens = min(Double(rate.burst), bucket.tokens + seconds * rate.perSecond)
        bucket.updated = now
    }

    /// At most once a second, so that a flood from ever new addresses does not make each of
    /// its requests walk the whole table.
    private func forgetRefilled(_ state: inout State, at now: ContinuousClock.Instant) {
        if let last = state.lastSweep, last.duration(to: now) < .seconds(1) { return }
        state.lastSweep = now
        let full = Double(rate.burst)
        state.buckets = state.buckets.filter { _, bucket in
            var bucket = bucket
            refill(&bucket, at: now)
            return bucket.tokens < full
        }
    }

    /// `Retry-After` is whole seconds: the wait rounded up, at least 1.
    package static func retryAfterSeconds(_ wait: Duration) -> Int {
        let (seconds, attoseconds) = wait.components
        return max(1, Int(seconds) + (attoseconds > 0 ? 1 : 0))
    }

    /// The source a request is counted under: the IPv4 address, the IPv6 /64 network, or
    /// `local` for a Unix socket.
    package static func source(of address: SocketAddress?) -> String {
        switch address {
        case .v4?:
            return address?.ipAddress ?? "unknown"
        case .v6(let v6)?:
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0.prefix(8)) }
            if bytes.prefix(8) == [0, 0, 0, 0, 0, 0, 0, 0], let text = address?.ipAddress {
                // ::1 and IPv4-mapped addresses: the whole address.
                return text
            }
            return stride(from: 0, to: 8, by: 2).map {
                String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16)
            }
            .joined(separator: ":") + "::/64"
        default:
            return "local"
        }
    }
}

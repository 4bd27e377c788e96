import TestSupport
import Testing

@testable import LedgerLite

/// `ClockWindow`: the one rule the gateway (meters' times) and the super node (gateways'
/// stamps and blocks) judge a stated time by, at the window's edges and the ends of `Int64`.
@Suite("Clock window")
struct ClockWindowTests {
    let window = ClockWindow(milliseconds: 300_000)
    let now = TestKeys.baseTime

    @Test func aTimeUpToTheWindowAheadIsNotTooFarAhead() {
        #expect(window.tooFarAhead(now + 300_000, of: now) == nil)
        #expect(window.tooFarAhead(now, of: now) == nil)
        #expect(window.tooFarAhead(now - 1, of: now) == nil)
        #expect(window.tooFarAhead(.min, of: now) == nil)
        #expect(window.tooFarAhead(now + 300_001, of: now) == 300_001)
    }

    @Test func theEndsOfInt64AreJudgedWithoutOverflow() {
        #expect(window.tooFarAhead(.max, of: now) == .max - now)
        #expect(window.tooFarAhead(.max, of: .min) == .max)
        #expect(window.tooFarAhead(.min, of: .max) == nil)
        #expect(!window.contains(.max, around: now))
        #expect(!window.contains(.min, around: now))
        #expect(!window.contains(.max, around: .min))
        #expect(!window.contains(.min, around: .max))
    }

    @Test func containsIsTheWindowEitherWay() {
        #expect(window.contains(now + 300_000, around: now))
        #expect(window.contains(now - 300_000, around: now))
        #expect(!window.contains(now + 300_001, around: now))
        #expect(!window.contains(now - 300_001, around: now))
    }
}

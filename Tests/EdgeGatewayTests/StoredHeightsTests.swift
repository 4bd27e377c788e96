import Testing

@testable import GatewayCore

/// The archiver tells whoever follows the store (the uplink) which block it stored last.
@Suite("Stored heights: the archiver's progress as a stream")
struct StoredHeightsTests {
    @Test func aSubscriberGetsTheLatestHeightThenEachNewOneAndTheEnd() async {
        let heights = StoredHeights(latest: 4)
        var updates = heights.updates().makeAsyncIterator()
        #expect(await updates.next() == 4)
        heights.publish(5)
        #expect(await updates.next() == 5)
        heights.finish()
        #expect(await updates.next() == nil)
        var late = heights.updates().makeAsyncIterator()
        #expect(await late.next() == nil, "a stream asked for after the end ends at once")
    }

    @Test func aSlowSubscriberGetsOnlyTheNewestHeight() async {
        let heights = StoredHeights(latest: nil)
        var updates = heights.updates().makeAsyncIterator()
        for height in 0..<10 { heights.publish(UInt64(height)) }
        #expect(await updates.next() == 9)
    }
}

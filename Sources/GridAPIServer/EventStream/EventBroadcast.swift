import Synchronization

/// Hands each event a server publishes to every open event stream: the subscribers of a
/// server whose events come from its own request handlers (the super node's pushes and
/// escalations). A subscriber that falls behind by `buffered` events loses the oldest.
package final class EventBroadcast: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<ServerSentEvent>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())
    /// Events kept for a subscriber that has not read them yet.
    package static let buffered = 64

    package init() {}

    /// Subscribers now.
    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// The events published from now on; the stream ends when its task is cancelled.
    package func subscribe() -> AsyncStream<ServerSentEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ServerSentEvent.self,
            bufferingPolicy: .bufferingNewest(Self.buffered)
        )
        let id = state.withLock { s -> Int in
            defer { s.nextID += 1 }
            s.subscribers[s.nextID] = continuation
            return s.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends `event` to every subscriber.
    package func publish(_ event: ServerSentEvent) {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.yield(event) }
    }
}

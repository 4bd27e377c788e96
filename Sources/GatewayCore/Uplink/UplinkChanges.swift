import Synchronization

/// Tells subscribers that the uplink's view (`Uplink.view()`) changed: a checkpoint stored, a
/// new sealed height seen, the state changed. A subscriber that falls behind gets one signal
/// for every change it missed, and reads the view afresh.
package final class UplinkChanges: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    package init() {}

    /// A stream of change signals; it ends when the subscriber's task is cancelled.
    package func updates() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
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

    /// Tells every subscriber that the view changed.
    package func publish() {
        for subscriber in state.withLock({ Array($0.subscribers.values) }) { subscriber.yield() }
    }
}

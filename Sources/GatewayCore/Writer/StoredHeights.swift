import Synchronization

/// The height of the newest block in the chain store, as a stream per subscriber: the
/// archiver publishes each block it stores, and whoever follows the store (the uplink)
/// waits for the next one instead of asking the database. A subscriber that falls behind
/// gets only the newest height.
package final class StoredHeights: Sendable {
    private struct State {
        var latest: UInt64?
        var subscribers: [Int: AsyncStream<UInt64>.Continuation] = [:]
        var nextID = 0
        var finished = false
    }

    private let state: Mutex<State>

    /// `latest`: the height already in the store (nil for an empty chain).
    package init(latest: UInt64?) { state = Mutex(State(latest: latest)) }

    /// A stream of stored heights, starting with the latest one; it ends with `finish()`.
    package func updates() -> AsyncStream<UInt64> {
        let (stream, continuation) = AsyncStream.makeStream(of: UInt64.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { s -> Int? in
            guard !s.finished else { return nil }
            let id = s.nextID
            s.nextID += 1
            s.subscribers[id] = continuation
            if let latest = s.latest { continuation.yield(latest) }
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Tells every subscriber that the block at `height` is in the store.
    package func publish(_ height: UInt64) {
        let subscribers = state.withLock { s -> [AsyncStream<UInt64>.Continuation] in
            s.latest = max(s.latest ?? height, height)
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(height) }
    }

    /// Ends every stream (the archiver has stopped).
    package func finish() {
        let subscribers = state.withLock { s -> [AsyncStream<UInt64>.Continuation] in
            s.finished = true
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }
}
